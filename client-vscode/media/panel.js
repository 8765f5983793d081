// @ts-check
/**
 * The Tether side panel (a webview), laid out for a narrow side bar: decisions as a list
 * that expands to details and the diff, filters behind a button, the profile as interval
 * bars with a sentence each, adapters as a version list, and a training progress bar.
 *
 * It only renders and asks; the extension host talks to the server. Messages in:
 * history, profile, decisionRecorded, training, showTab, error, diff, server, production,
 * reviewed, student. Messages out: ready, history (a query), profile, open (a decision),
 * diff (a decision), trainNow, cancelTraining, command (a welcome action), production (ask
 * for the decisions made through `tether serve`), openProduction (an item), review (seq,
 * action), chooseStudent (the host shows the students this machine can run).
 * No inline handlers and no innerHTML with data: everything is built with DOM calls so
 * the Content-Security-Policy can forbid inline script and no value can inject markup.
 */
(function () {
  'use strict';

  /** @typedef {{offset: number, limit: number, search: string, outcome: string, actor: string, classKey: string}} Query */

  // @ts-ignore - provided by the webview host
  const vscode = acquireVsCodeApi();
  const PAGE_SIZE = 25;

  /** @type {{tab: string, query: Query, filtersOpen: boolean}} */
  const state = Object.assign(
    {
      tab: document.body.dataset.tab || 'history',
      query: { offset: 0, limit: PAGE_SIZE, search: '', outcome: '', actor: '', classKey: '' },
      filtersOpen: false,
    },
    vscode.getState() || {},
  );
  /** Total rows of the last history answer, for the pager. */
  let total = 0;
  /** Rows shown expanded (by seq), kept across refreshes. */
  const expanded = new Set();
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let searchTimer;

  /** @param {string} id */
  function el(id) {
    const node = document.getElementById(id);
    if (!node) {
      throw new Error(`panel markup lacks #${id}`);
    }
    return node;
  }

  /**
   * @param {string} tag
   * @param {string} [text]
   * @param {string} [className]
   */
  function make(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) {
      node.textContent = text;
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function save() {
    vscode.setState(state);
  }

  /** @param {number} n */
  const pad = (n) => String(n).padStart(2, '0');

  /** Time of day for today's rows, month-day for older ones (full time in the title). */
  /** @param {string} iso */
  function shortTime(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) {
      return iso || '';
    }
    const now = new Date();
    if (d.toDateString() === now.toDateString()) {
      return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    }
    const date = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    return d.getFullYear() === now.getFullYear() ? date : `${d.getFullYear()}-${date}`;
  }

  /** @param {string} iso */
  function fullTime(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso || '' : d.toLocaleString();
  }

  /** @param {number | null | undefined} x */
  function pct(x) {
    return typeof x === 'number' ? `${Math.round(x * 100)}%` : '–';
  }

  // ------------------------------------------------------------------ words
  /** Glyph and words for each outcome (the glyph is decoration; the words are read out). */
  const OUTCOME_ICONS = {
    accepted: '✓',
    partly_accepted: '◐',
    rejected: '✕',
    corrected: '✎',
    rewritten: '✎',
    auto_applied: '⚡',
    suppressed: '∅',
    expired: '⌛',
    proposed: '•',
    pinned: '⚑',
    adapter_promoted: '▲',
    adapter_refused: '▽',
    adapter_rollback: '↶',
    published: '⇪',
    production: '⇄',
    reviewed: '☑',
  };

  /** "partly accepted: hunks 1, 3 of 3"; other outcomes in words. @param {any} d */
  function outcomeText(d) {
    if (d.outcome === 'partly_accepted') {
      const hunks = (d.hunks || []).map((/** @type {number} */ h) => h + 1).join(', ');
      const of = d.hunksTotal ? ` of ${d.hunksTotal}` : '';
      return hunks ? `partly accepted: hunk${(d.hunks || []).length > 1 ? 's' : ''} ${hunks}${of}` : 'partly accepted';
    }
    return String(d.outcome || '').replace(/_/g, ' ');
  }

  /** @param {any} d */
  function where(d) {
    const file = d.path ? d.path.split('/').pop() : d.uri ? d.uri.split('/').pop() : '';
    if (!file) return d.classKey || '–';
    return typeof d.line === 'number' ? `${file}:${d.line}` : file;
  }

  /** The one line under a decision: the user's reason, else what the change was. @param {any} d */
  function oneLine(d) {
    return d.reason || d.rationale || d.classKey || '';
  }

  // ------------------------------------------------------------------ tabs
  const tabs = /** @type {HTMLButtonElement[]} */ ([el('tab-history'), el('tab-profile')]);

  /** @param {string} name @param {boolean} [focus] */
  function showTab(name, focus) {
    state.tab = name;
    save();
    for (const tab of tabs) {
      const on = tab.id === `tab-${name}`;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      el(/** @type {string} */ (tab.getAttribute('aria-controls'))).hidden = !on;
      if (on && focus) {
        tab.focus();
      }
    }
    if (name === 'profile') {
      vscode.postMessage({ type: 'profile' });
    } else {
      requestProduction(); // API decisions arrive from another process: look again
    }
  }

  for (const tab of tabs) {
    tab.addEventListener('click', () => showTab(tab.id.replace('tab-', '')));
    tab.addEventListener('keydown', (event) => {
      const i = tabs.indexOf(tab);
      let next = -1;
      if (event.key === 'ArrowRight') next = (i + 1) % tabs.length;
      else if (event.key === 'ArrowLeft') next = (i - 1 + tabs.length) % tabs.length;
      else if (event.key === 'Home') next = 0;
      else if (event.key === 'End') next = tabs.length - 1;
      if (next >= 0) {
        event.preventDefault();
        showTab(tabs[next].id.replace('tab-', ''), true);
      }
    });
  }

  // ------------------------------------------------------------------ history: filters
  const search = /** @type {HTMLInputElement} */ (el('history-search'));
  const outcome = /** @type {HTMLSelectElement} */ (el('history-outcome'));
  const actor = /** @type {HTMLSelectElement} */ (el('history-actor'));
  const classKey = /** @type {HTMLInputElement} */ (el('history-class'));
  const toggle = el('filters-toggle');
  search.value = state.query.search;
  outcome.value = state.query.outcome;
  actor.value = state.query.actor;
  classKey.value = state.query.classKey;

  function showFilters() {
    el('filter-fields').hidden = !state.filtersOpen;
    toggle.setAttribute('aria-expanded', state.filtersOpen ? 'true' : 'false');
    const active = [state.query.outcome, state.query.actor, state.query.classKey].filter(Boolean).length;
    const count = el('filters-count');
    count.textContent = active ? String(active) : '';
    count.hidden = !active;
  }

  toggle.addEventListener('click', () => {
    state.filtersOpen = !state.filtersOpen;
    save();
    showFilters();
  });

  function requestHistory() {
    save();
    vscode.postMessage({ type: 'history', query: Object.assign({}, state.query) });
  }

  function filtersChanged() {
    state.query.search = search.value;
    state.query.outcome = outcome.value;
    state.query.actor = actor.value;
    state.query.classKey = classKey.value;
    state.query.offset = 0;
    showFilters();
    requestHistory();
  }

  /** Typing waits for a pause before asking; selects ask at once. */
  function typed() {
    if (searchTimer !== undefined) clearTimeout(searchTimer);
    searchTimer = setTimeout(filtersChanged, 250);
  }

  search.addEventListener('input', typed);
  classKey.addEventListener('input', typed);
  outcome.addEventListener('change', filtersChanged);
  actor.addEventListener('change', filtersChanged);
  el('history-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    if (searchTimer !== undefined) clearTimeout(searchTimer);
    filtersChanged();
  });

  el('history-prev').addEventListener('click', () => {
    state.query.offset = Math.max(0, state.query.offset - state.query.limit);
    requestHistory();
  });
  el('history-next').addEventListener('click', () => {
    if (state.query.offset + state.query.limit < total) {
      state.query.offset += state.query.limit;
      requestHistory();
    }
  });

  // ------------------------------------------------------------------ history: the list
  /** @param {any} d */
  function openDecision(d) {
    vscode.postMessage({ type: 'open', decision: d });
  }

  /** @param {string} label @param {string} value */
  function fact(label, value) {
    const row = make('div', undefined, 'fact');
    row.appendChild(make('dt', label));
    row.appendChild(make('dd', value));
    return row;
  }

  /** The expanded part of a decision: its facts, the diff (asked of the host), Open diff. @param {any} d */
  function details(d) {
    const box = make('div', undefined, 'details');
    box.id = `decision-${d.seq}`;
    const facts = make('dl', undefined, 'facts');
    facts.appendChild(fact('Outcome', outcomeText(d)));
    facts.appendChild(fact('Decided by', d.actor || '–'));
    if (d.reason) facts.appendChild(fact('Reason', d.reason));
    if (d.rationale && d.rationale !== d.reason) facts.appendChild(fact('Change', d.rationale));
    if (d.classKey) facts.appendChild(fact('Class', d.classKey));
    const model = [d.model, d.adapterVersion].filter(Boolean).join(' / ');
    if (model) facts.appendChild(fact('Model', model));
    facts.appendChild(fact('When', fullTime(d.ts)));
    box.appendChild(facts);
    if (d.proposalId) {
      const diff = make('pre', 'Loading the diff…', 'diff');
      diff.setAttribute('aria-label', 'Diff of this decision');
      diff.dataset.seq = String(d.seq);
      box.appendChild(diff);
      const open = make('button', 'Open diff in editor', 'secondary');
      /** @type {HTMLButtonElement} */ (open).type = 'button';
      open.addEventListener('click', () => openDecision(d));
      const actions = make('div', undefined, 'actions');
      if (d.outcome === 'production') {
        // a decision an API client made: its review lives in "From production" above
        const review = make('button', 'Review…');
        /** @type {HTMLButtonElement} */ (review).type = 'button';
        review.title = 'Confirm, overturn or discard it in "From production" above';
        review.addEventListener('click', () => showProductionItem(d.seq));
        actions.appendChild(review);
      }
      actions.appendChild(open);
      box.appendChild(actions);
      vscode.postMessage({ type: 'diff', decision: d });
    }
    return box;
  }

  /** @param {HTMLElement} item @param {any} d @param {boolean} open */
  function setExpanded(item, d, open) {
    const button = /** @type {HTMLElement} */ (item.querySelector('.summary'));
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    const existing = item.querySelector('.details');
    if (open && !existing) {
      item.appendChild(details(d));
    } else if (!open && existing) {
      existing.remove();
    }
    if (open) expanded.add(d.seq);
    else expanded.delete(d.seq);
  }

  /** @param {any} d */
  function decisionItem(d) {
    const item = make('li', undefined, 'decision');
    item.dataset.seq = String(d.seq);
    item.dataset.outcome = d.outcome;
    const button = make('button', undefined, 'summary');
    /** @type {HTMLButtonElement} */ (button).type = 'button';
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-controls', `decision-${d.seq}`);
    const icon = make('span', OUTCOME_ICONS[/** @type {keyof typeof OUTCOME_ICONS} */ (d.outcome)] || '•', `icon outcome-${d.outcome}`);
    icon.setAttribute('aria-hidden', 'true');
    const top = make('span', undefined, 'line1');
    const place = make('span', where(d), 'where clip');
    place.title = d.path || '';
    const time = make('span', shortTime(d.ts), 'time');
    time.title = fullTime(d.ts);
    top.appendChild(place);
    top.appendChild(time);
    const bottom = make('span', undefined, 'line2');
    bottom.appendChild(make('span', outcomeText(d), `what outcome-${d.outcome}`));
    const line = oneLine(d);
    if (line) {
      const why = make('span', line, 'why clip');
      why.title = line;
      bottom.appendChild(why);
    }
    const text = make('span', undefined, 'text');
    text.appendChild(top);
    text.appendChild(bottom);
    button.appendChild(icon);
    button.appendChild(text);
    button.addEventListener('click', () => setExpanded(item, d, !expanded.has(d.seq)));
    button.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const sib = event.key === 'ArrowDown' ? item.nextElementSibling : item.previousElementSibling;
        const next = sib && /** @type {HTMLElement | null} */ (sib.querySelector('.summary'));
        if (next) next.focus();
      }
    });
    item.appendChild(button);
    if (expanded.has(d.seq)) setExpanded(item, d, true);
    return item;
  }

  /** @param {any} page */
  function renderHistory(page) {
    total = page.total;
    const list = el('history-list');
    list.replaceChildren(...page.items.map(decisionItem));
    el('history-empty').hidden = page.items.length > 0;
    const first = page.items.length ? page.offset + 1 : 0;
    const last = page.offset + page.items.length;
    el('history-page').textContent = page.total ? `${first}–${last} of ${page.total}` : '';
    /** @type {HTMLButtonElement} */ (el('history-prev')).disabled = page.offset <= 0;
    /** @type {HTMLButtonElement} */ (el('history-next')).disabled = last >= page.total;
  }

  /** A unified diff, one line per row, coloured by its sign. @param {any} msg */
  function renderDiff(msg) {
    // the same row may be open twice: in the history and in the production list
    for (const pre of document.querySelectorAll(`pre.diff[data-seq="${Number(msg.seq)}"]`)) {
      pre.replaceChildren();
      if (msg.error) {
        pre.textContent = msg.error;
        continue;
      }
      const lines = String(msg.diff || '(no change)').split('\n');
      for (const text of lines) {
        if (text.startsWith('---') || text.startsWith('+++')) continue;
        const kind = text.startsWith('+') ? 'add' : text.startsWith('-') ? 'del' : text.startsWith('@@') ? 'hunk' : 'ctx';
        pre.appendChild(make('span', text, `dl ${kind}`));
      }
    }
  }

  // ------------------------------------------------------------------ production (living tether)
  /** Production rows shown expanded (by seq). */
  const productionOpen = new Set();
  const VERDICT_WORDS = { accept: 'accepted', reject: 'rejected', correct: 'corrected' };
  const REVIEW_WORDS = { pending: 'awaiting review', confirm: 'confirmed', overturn: 'overturned', discard: 'discarded' };

  /** What each review records, for this verdict (the server's rules, in words). @param {any} item */
  function reviewButtons(item) {
    const confirm = {
      accept: ['Confirm', 'Record it as your accept: it teaches Tether.'],
      reject: ['Confirm', 'Record it as your reject: it teaches Tether.'],
      correct: ['Confirm correction', 'Record the client\'s correction as yours: it teaches Tether.'],
    }[/** @type {'accept'|'reject'|'correct'} */ (item.verdict)];
    const overturn = item.verdict === 'accept'
      ? ['Overturn: reject', 'Record the opposite, a reject of this proposal, as yours.']
      : ['Overturn: accept', 'Record the opposite, an accept of the proposal as made, as yours.'];
    return [
      ['confirm', ...confirm],
      ['overturn', ...overturn],
      ['discard', 'Discard', 'Drop it: nothing is learnt from it.'],
    ];
  }

  /** @param {any} item */
  function productionDetails(item) {
    const box = make('div', undefined, 'details');
    box.id = `production-${item.seq}`;
    const facts = make('dl', undefined, 'facts');
    facts.appendChild(fact('Verdict', `${VERDICT_WORDS[/** @type {'accept'} */ (item.verdict)] || item.verdict} by an API client`));
    if (item.tokenId) facts.appendChild(fact('Token', item.tokenId));
    if (item.reason) facts.appendChild(fact('Reason', item.reason));
    if (item.classKey) facts.appendChild(fact('Class', item.classKey));
    facts.appendChild(fact('When', fullTime(item.ts)));
    facts.appendChild(fact('Review', REVIEW_WORDS[/** @type {'pending'} */ (item.review)] || item.review));
    box.appendChild(facts);
    if (item.verdict === 'correct' && item.text) {
      box.appendChild(make('p', 'The client wrote instead:', 'hint'));
      const text = make('pre', item.text, 'diff correction');
      text.setAttribute('aria-label', 'The correction the API client sent');
      box.appendChild(text);
    }
    const diff = make('pre', 'Loading the diff…', 'diff');
    diff.setAttribute('aria-label', 'Diff of the proposal the API made');
    diff.dataset.seq = String(item.seq);
    box.appendChild(diff);
    vscode.postMessage({ type: 'diff', decision: item });
    const actions = make('div', undefined, 'actions');
    if (item.review === 'pending') {
      reviewButtons(item).forEach(([action, title, help], i) => {
        const b = make('button', title, i === 0 ? '' : 'secondary');
        /** @type {HTMLButtonElement} */ (b).type = 'button';
        b.title = help;
        b.dataset.review = action;
        b.addEventListener('click', () => {
          for (const other of actions.querySelectorAll('button')) /** @type {HTMLButtonElement} */ (other).disabled = true;
          el('production-status').textContent = 'Recording your review…';
          vscode.postMessage({ type: 'review', seq: item.seq, action, verdict: item.verdict });
        });
        actions.appendChild(b);
      });
    }
    const open = make('button', 'Open diff in editor', 'secondary');
    /** @type {HTMLButtonElement} */ (open).type = 'button';
    open.addEventListener('click', () => vscode.postMessage({ type: 'openProduction', item }));
    actions.appendChild(open);
    box.appendChild(actions);
    return box;
  }

  /** @param {HTMLElement} li @param {any} item @param {boolean} open */
  function setProductionOpen(li, item, open) {
    /** @type {HTMLElement} */ (li.querySelector('.summary')).setAttribute('aria-expanded', open ? 'true' : 'false');
    const existing = li.querySelector('.details');
    if (open && !existing) li.appendChild(productionDetails(item));
    else if (!open && existing) existing.remove();
    if (open) productionOpen.add(item.seq);
    else productionOpen.delete(item.seq);
  }

  /** @param {any} item */
  function productionItem(item) {
    const li = make('li', undefined, 'decision');
    li.dataset.seq = String(item.seq);
    li.dataset.review = item.review;
    const button = make('button', undefined, 'summary');
    /** @type {HTMLButtonElement} */ (button).type = 'button';
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-controls', `production-${item.seq}`);
    const icon = make('span', OUTCOME_ICONS.production, 'icon outcome-production');
    icon.setAttribute('aria-hidden', 'true');
    const top = make('span', undefined, 'line1');
    const place = make('span', where(item), 'where clip');
    place.title = item.path || '';
    const time = make('span', shortTime(item.ts), 'time');
    time.title = fullTime(item.ts);
    top.appendChild(place);
    top.appendChild(time);
    const bottom = make('span', undefined, 'line2');
    bottom.appendChild(make('span', `API ${VERDICT_WORDS[/** @type {'accept'} */ (item.verdict)] || item.verdict}`, 'what'));
    bottom.appendChild(make('span', REVIEW_WORDS[/** @type {'pending'} */ (item.review)] || item.review, 'review-state'));
    const text = make('span', undefined, 'text');
    text.appendChild(top);
    text.appendChild(bottom);
    button.appendChild(icon);
    button.appendChild(text);
    button.addEventListener('click', () => setProductionOpen(li, item, !productionOpen.has(item.seq)));
    li.appendChild(button);
    if (productionOpen.has(item.seq)) setProductionOpen(li, item, true);
    return li;
  }

  /** The production items last shown, by seq. @type {Map<number, any>} */
  const productionItems = new Map();

  /** Expand a production item and bring it into view (from its history row). @param {number} seq */
  function showProductionItem(seq) {
    const li = /** @type {HTMLElement | null} */ (document.querySelector(`#production-list > li[data-seq="${Number(seq)}"]`));
    const item = productionItems.get(Number(seq));
    if (!li || !item) {
      requestProduction();
      return;
    }
    setProductionOpen(li, item, true);
    li.scrollIntoView({ block: 'nearest' });
    /** @type {HTMLElement} */ (li.querySelector('.summary')).focus();
  }

  /** Pending first (newest first), then the reviewed ones. @param {any} msg */
  function renderProduction(msg) {
    const section = el('production');
    if (msg.error) {
      el('production-status').textContent = msg.error;
      return;
    }
    const items = msg.production.items || [];
    productionItems.clear();
    for (const i of items) productionItems.set(Number(i.seq), i);
    const pending = items.filter((/** @type {any} */ i) => i.review === 'pending');
    const done = items.filter((/** @type {any} */ i) => i.review !== 'pending');
    section.hidden = items.length === 0;
    const count = el('production-count');
    count.textContent = pending.length ? `${pending.length} to review` : '';
    count.hidden = !pending.length;
    el('production-list').replaceChildren(...[...pending, ...done].map(productionItem));
  }

  function requestProduction() {
    vscode.postMessage({ type: 'production' });
  }

  /** After a review: what it did, or why it was refused. @param {any} msg */
  function renderReviewed(msg) {
    const words = { confirm: 'Confirmed', overturn: 'Overturned', discard: 'Discarded' };
    el('production-status').textContent = msg.error
      ? msg.error
      : `${words[/** @type {'confirm'} */ (msg.action)] || msg.action}: ${msg.action === 'discard' ? 'nothing is learnt from it' : 'now a decision of yours, it teaches Tether'}. ${msg.pending} left to review.`;
  }

  /** The profile's tally of production decisions and the student's savings. @param {any} p */
  function renderLiving(p) {
    const c = p.production;
    el('living-production').textContent = c
      ? `From production (tether serve): ${c.pending} awaiting review, ${c.confirmed} confirmed, ${c.overturned} overturned, ${c.discarded} discarded. Only reviewed ones count in the classes above.`
      : 'From production: the server did not say.';
    const sv = p.savings;
    el('living-savings').textContent = sv && sv.summary ? sv.summary.replace(/^savings: /, 'Savings: ') : '';
  }

  // ------------------------------------------------------------------ profile
  /** One sentence for a class: what Tether does, and the verdicts behind it. @param {any} c */
  function classSentence(c) {
    const n = c.n || 0;
    const acc = typeof c.accepts === 'number' ? c.accepts : null;
    const rej = typeof c.rejects === 'number' ? c.rejects : null;
    if (c.pinned) return `Pinned: ${String(c.pinned).replace(/_/g, ' ')}. Your rule wins over what Tether learned.`;
    if (c.mode === 'auto') {
      return acc !== null
        ? `Applies these on its own: you accepted ${acc} of ${n}. It still asks now and then.`
        : `Applies these on its own (approval ${pct(c.mean)} over ${n}).`;
    }
    if (c.mode === 'quiet') {
      return rej !== null ? `Stays quiet: you rejected ${rej} of ${n}.` : `Stays quiet (approval ${pct(c.mean)} over ${n}).`;
    }
    if (n === 0) return 'Asks you: no decisions of this kind yet.';
    return acc !== null
      ? `Asks you: you accepted ${acc} of ${n}, not enough to be sure either way.`
      : `Asks you: approval ${pct(c.mean)} over ${n}, not yet sure either way.`;
  }

  /** @param {any} c */
  function intervalBar(c) {
    const bar = make('span', undefined, 'interval');
    bar.setAttribute('role', 'img');
    bar.setAttribute('aria-label', `approval ${pct(c.mean)}, likely between ${pct(c.lower)} and ${pct(c.upper)}`);
    if (typeof c.lower === 'number' && typeof c.upper === 'number') {
      const range = make('span', undefined, 'interval-range');
      range.style.left = `${c.lower * 100}%`;
      range.style.width = `${Math.max(1, (c.upper - c.lower) * 100)}%`;
      bar.appendChild(range);
    }
    if (typeof c.mean === 'number') {
      const mean = make('span', undefined, 'interval-mean');
      mean.style.left = `${c.mean * 100}%`;
      bar.appendChild(mean);
    }
    return bar;
  }

  /** @param {any} c */
  function classItem(c) {
    const item = make('li', undefined, 'class-item');
    item.dataset.classKey = c.classKey;
    item.title = [
      `${c.classKey}`,
      `approval ${pct(c.mean)} (${pct(c.lower)}–${pct(c.upper)}), ${c.n} decision${c.n === 1 ? '' : 's'}`,
      c.reason ? `policy: ${c.reason}` : '',
    ]
      .filter(Boolean)
      .join('\n');
    const head = make('div', undefined, 'class-head');
    head.appendChild(make('span', c.pinned ? 'pinned' : c.mode || '–', `badge policy-${c.pinned ? 'pinned' : c.mode || 'none'}`));
    head.appendChild(make('span', c.classKey, 'class-key clip'));
    head.appendChild(make('span', pct(c.mean), 'class-mean'));
    item.appendChild(head);
    item.appendChild(intervalBar(c));
    item.appendChild(make('p', classSentence(c), 'sentence'));
    return item;
  }

  /** A short eval line from an adapter's metrics (known ones in words, no nulls). @param {any} a */
  function evalLine(a) {
    const m = a.metrics || {};
    const parts = [];
    const num = (/** @type {string} */ k) => (typeof m[k] === 'number' ? m[k] : null);
    const acc = num('preference_accuracy') ?? num('eval_preference_accuracy');
    if (acc !== null) parts.push(`prefers your choice ${Math.round(acc * 100)}% of the time`);
    const margin = num('reward_margin') ?? num('pairs_margin');
    if (margin !== null) parts.push(`margin ${margin.toFixed(2)}`);
    const loss = num('eval_loss') ?? num('loss');
    if (loss !== null) parts.push(`loss ${loss.toFixed(3)}`);
    const pairs = num('pairs') ?? num('train_pairs') ?? num('examples');
    if (pairs !== null) parts.push(`${pairs} examples`);
    return parts.join(' · ') || 'no evaluation numbers';
  }

  /** @param {any} a @param {string | null} active */
  function adapterItem(a, active) {
    const item = make('li', undefined, 'adapter');
    item.dataset.version = a.version;
    const head = make('div', undefined, 'adapter-head');
    head.appendChild(make('span', a.version, 'version'));
    if (a.version === active) head.appendChild(make('span', 'active', 'badge policy-auto'));
    else head.appendChild(make('span', a.status || '', 'status'));
    const created = make('span', a.createdAt ? shortTime(a.createdAt) : '', 'time');
    if (a.createdAt) created.title = fullTime(a.createdAt);
    head.appendChild(created);
    item.appendChild(head);
    const line = make('p', evalLine(a), 'sentence');
    item.title = Object.entries(a.metrics || {})
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}: ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v)}`)
      .join('\n');
    item.appendChild(line);
    return item;
  }

  /** @param {any} t */
  function renderTraining(t) {
    const progress = /** @type {HTMLProgressElement} */ (el('training-progress'));
    const running = !!t && t.state === 'running';
    const hasSteps = !!t && typeof t.step === 'number' && !!t.total;
    if (hasSteps) {
      progress.value = Math.round((100 * t.step) / t.total);
    } else if (running) {
      progress.removeAttribute('value'); // moving, with no count yet
    } else {
      progress.value = t && ['done', 'promoted', 'finished'].includes(t.state) ? 100 : 0;
    }
    const phase = running ? t.phase || 'running' : t ? t.state : 'idle';
    el('training-phase').textContent = String(phase).replace(/_/g, ' ');
    el('training-step').textContent = hasSteps ? `step ${t.step} of ${t.total}` : '';
    let text = t && t.message ? t.message : '';
    if (!running && t && t.lastResult) {
      const r = t.lastResult;
      text = `Last run: ${r.status}${r.version ? ` (${r.version})` : ''}${r.reason ? `: ${r.reason}` : ''}`;
    }
    el('training-state').textContent = text;
    /** @type {HTMLButtonElement} */ (el('train-now')).disabled = running;
    el('cancel-training').hidden = !running;
  }

  /** @param {any} p */
  function renderProfile(p) {
    el('classes-list').replaceChildren(...p.classes.map(classItem));
    el('classes-empty').hidden = p.classes.length > 0;
    const newest = [...p.adapters].sort((/** @type {any} */ a, /** @type {any} */ b) => String(b.createdAt || '').localeCompare(String(a.createdAt || '')));
    el('adapters-list').replaceChildren(...newest.map((/** @type {any} */ a) => adapterItem(a, p.activeAdapter)));
    el('adapters-empty').hidden = p.adapters.length > 0;
    renderLiving(p);
    renderTraining(p.training);
  }

  el('train-now').addEventListener('click', () => vscode.postMessage({ type: 'trainNow' }));
  el('choose-student').addEventListener('click', () => vscode.postMessage({ type: 'chooseStudent' }));
  el('cancel-training').addEventListener('click', () => vscode.postMessage({ type: 'cancelTraining' }));

  // ------------------------------------------------------------------ welcome
  /** The welcome: what to do next, or why the server is not running and how to fix it. @param {any} s */
  function renderWelcome(s) {
    const failed = s.state === 'failed';
    const fresh = !!s.firstRun;
    el('welcome').hidden = !failed && !fresh;
    const problem = el('welcome-problem');
    problem.textContent = failed ? s.problem || 'The Tether server is not running.' : '';
    problem.hidden = !failed;
    const steps = el('welcome-steps');
    const items = failed
      ? ['Install Tether for your project: pip install tether (in its .venv).', 'Or point tether.python at an interpreter that has it.', 'Then restart the server.']
      : ['Select some code, then run “Tether: Ask…” (Ctrl+K Ctrl+A) and say what you want.', 'Review the suggestion in the diff: accept or reject each hunk.', 'Every decision teaches Tether when to ask and what you like.'];
    steps.replaceChildren(...items.map((t) => make('li', t)));
    el('welcome-model').textContent = s.modelHint || '';
    const actions = el('welcome-actions');
    const buttons = failed
      ? [['openSettings', 'Set interpreter'], ['restart', 'Restart server'], ['showLog', 'Show log']]
      : [['ask', 'Ask…'], ['openSettings', 'Choose a model']];
    actions.replaceChildren(
      ...buttons.map(([id, title], i) => {
        const b = make('button', title, i === 0 ? '' : 'secondary');
        /** @type {HTMLButtonElement} */ (b).type = 'button';
        b.dataset.command = id;
        b.addEventListener('click', () => vscode.postMessage({ type: 'command', command: id }));
        return b;
      }),
    );
  }

  // ------------------------------------------------------------------ messages
  window.addEventListener('message', (event) => {
    const msg = event.data;
    if (!msg || typeof msg.type !== 'string') return;
    switch (msg.type) {
      case 'history':
        el('error').hidden = true;
        renderHistory(msg.page);
        break;
      case 'profile':
        el('error').hidden = true;
        renderProfile(msg.profile);
        break;
      case 'training':
        renderTraining(msg.training);
        break;
      case 'diff':
        renderDiff(msg);
        break;
      case 'server':
        renderWelcome(msg);
        break;
      case 'production':
        renderProduction(msg);
        break;
      case 'reviewed':
        renderReviewed(msg);
        break;
      case 'student':
        el('student-current').textContent = `Proposals come from ${msg.current}.`;
        break;
      case 'decisionRecorded':
        // the new row may belong on the current page under the current filters: ask again
        requestHistory();
        requestProduction();
        if (state.tab === 'profile') vscode.postMessage({ type: 'profile' });
        break;
      case 'showTab':
        showTab(msg.tab, true);
        break;
      case 'error': {
        const node = el('error');
        node.textContent = msg.message;
        node.hidden = false;
        break;
      }
    }
  });

  showFilters();
  showTab(state.tab);
  vscode.postMessage({ type: 'ready' });
  requestHistory(); // (showTab above asked for the production decisions on the History tab)
})();
