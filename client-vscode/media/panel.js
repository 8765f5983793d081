// @ts-check
/**
 * The Tether side panel (a webview): decision history and profile.
 *
 * It only renders and asks; the extension host talks to the server. Messages in:
 * history, profile, decisionRecorded, training, showTab, error. Messages out: ready,
 * history (a query), profile, open (a decision), trainNow, cancelTraining.
 * No inline handlers and no innerHTML with data: everything is built with DOM calls so
 * the Content-Security-Policy can forbid inline script and no value can inject markup.
 */
(function () {
  'use strict';

  /** @typedef {{offset: number, limit: number, search: string, outcome: string, actor: string, classKey: string}} Query */

  // @ts-ignore - provided by the webview host
  const vscode = acquireVsCodeApi();
  const PAGE_SIZE = 25;

  /** @type {{tab: string, query: Query}} */
  const state = Object.assign(
    {
      tab: document.body.dataset.tab || 'history',
      query: { offset: 0, limit: PAGE_SIZE, search: '', outcome: '', actor: '', classKey: '' },
    },
    vscode.getState() || {},
  );
  /** Total rows of the last history answer, for the pager. */
  let total = 0;
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

  /** Time of day for today's rows, month-day and time for older ones (full time in the title). */
  /** @param {string} iso */
  function shortTime(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) {
      return iso || '';
    }
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    const now = new Date();
    if (d.toDateString() === now.toDateString()) {
      return time;
    }
    const date = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    return d.getFullYear() === now.getFullYear() ? `${date} ${time.slice(0, 5)}` : `${d.getFullYear()}-${date}`;
  }

  /** @param {string} iso */
  function fullTime(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso || '' : d.toLocaleString();
  }

  /**
   * A cell whose text may be cut short by the narrow side bar: the full text is its title.
   * @param {string} tag @param {string} text @param {string} [className]
   */
  function clipped(tag, text, className) {
    const cell = make(tag, text, `clip${className ? ` ${className}` : ''}`);
    cell.title = text;
    return cell;
  }

  /** @param {number | null | undefined} x */
  function pct(x) {
    return typeof x === 'number' ? `${Math.round(x * 100)}%` : '–';
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

  // ------------------------------------------------------------------ history
  const search = /** @type {HTMLInputElement} */ (el('history-search'));
  const outcome = /** @type {HTMLSelectElement} */ (el('history-outcome'));
  const actor = /** @type {HTMLSelectElement} */ (el('history-actor'));
  const classKey = /** @type {HTMLInputElement} */ (el('history-class'));
  search.value = state.query.search;
  outcome.value = state.query.outcome;
  actor.value = state.query.actor;
  classKey.value = state.query.classKey;

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

  /** @param {any} d */
  function openDecision(d) {
    vscode.postMessage({ type: 'open', decision: d });
  }

  /** @param {any} d */
  function modelCell(d) {
    const parts = [];
    if (d.model) parts.push(d.model);
    if (d.adapterVersion) parts.push(d.adapterVersion);
    return parts.join(' / ') || '–';
  }

  /** @param {any} page */
  function renderHistory(page) {
    total = page.total;
    const body = el('history-rows');
    body.replaceChildren();
    for (const d of page.items) {
      const row = make('tr');
      row.dataset.seq = String(d.seq);
      row.dataset.outcome = d.outcome;
      const file = d.path || (d.uri ? d.uri.split('/').pop() : '') || '–';
      const cells = [
        shortTime(d.ts),
        file,
        d.classKey || '–',
        d.outcome.replace(/_/g, ' '),
        d.actor,
        d.reason || '',
        modelCell(d),
      ];
      cells.forEach((text, i) => {
        const cell = i === 1 || i === 2 || i === 5 || i === 6 ? clipped('td', text) : make('td', text);
        if (i === 3) cell.className = `outcome outcome-${d.outcome}`;
        if (i === 0 && d.ts) cell.title = fullTime(d.ts);
        row.appendChild(cell);
      });
      if (d.proposalId) {
        row.tabIndex = 0;
        row.classList.add('openable');
        row.setAttribute('aria-label', `${d.outcome.replace(/_/g, ' ')}: ${file}, ${d.classKey || ''}. Open its diff`);
        row.addEventListener('click', () => openDecision(d));
        row.addEventListener('keydown', (event) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            openDecision(d);
          } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault();
            let sib = event.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling;
            while (sib && !(/** @type {HTMLElement} */ (sib).tabIndex >= 0)) {
              sib = event.key === 'ArrowDown' ? sib.nextElementSibling : sib.previousElementSibling;
            }
            if (sib) /** @type {HTMLElement} */ (sib).focus();
          }
        });
      }
      body.appendChild(row);
    }
    el('history-empty').hidden = page.items.length > 0;
    const first = page.items.length ? page.offset + 1 : 0;
    const last = page.offset + page.items.length;
    const pages = Math.max(1, Math.ceil(page.total / page.limit));
    const current = Math.floor(page.offset / page.limit) + 1;
    el('history-page').textContent = `${first}–${last} of ${page.total} (page ${current} of ${pages})`;
    /** @type {HTMLButtonElement} */ (el('history-prev')).disabled = page.offset <= 0;
    /** @type {HTMLButtonElement} */ (el('history-next')).disabled = last >= page.total;
  }

  // ------------------------------------------------------------------ profile
  /** @param {any} c */
  function intervalCell(c) {
    const cell = make('td');
    const text = `${pct(c.mean)} (${pct(c.lower)}–${pct(c.upper)})`;
    const bar = make('span', undefined, 'interval');
    bar.setAttribute('aria-hidden', 'true');
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
    cell.appendChild(make('span', text, 'interval-text'));
    cell.appendChild(bar);
    return cell;
  }

  /** @param {Record<string, any>} metrics */
  function metricsText(metrics) {
    const parts = [];
    for (const [k, v] of Object.entries(metrics || {})) {
      parts.push(`${k}: ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(3)) : String(v)}`);
    }
    return parts.join(', ') || '–';
  }

  /** @param {any} t */
  function renderTraining(t) {
    const progress = /** @type {HTMLProgressElement} */ (el('training-progress'));
    const running = t && t.state === 'running';
    if (t && typeof t.step === 'number' && t.total) {
      progress.value = Math.round((100 * t.step) / t.total);
    } else if (!running) {
      progress.value = t && ['done', 'promoted', 'finished'].includes(t.state) ? 100 : 0;
    } else {
      progress.removeAttribute('value');
    }
    let text = t ? t.state : 'idle';
    if (t && t.message) text += `: ${t.message}`;
    if (t && typeof t.step === 'number' && t.total) text += ` (${t.step}/${t.total})`;
    el('training-state').textContent = text;
    /** @type {HTMLButtonElement} */ (el('train-now')).disabled = !!running;
    el('cancel-training').hidden = !running;
  }

  /** @param {any} p */
  function renderProfile(p) {
    const classes = el('classes-rows');
    classes.replaceChildren();
    for (const c of p.classes) {
      const row = make('tr');
      row.dataset.classKey = c.classKey;
      row.appendChild(clipped('th', c.classKey)).setAttribute('scope', 'row');
      row.appendChild(intervalCell(c));
      row.appendChild(make('td', String(c.n)));
      row.appendChild(make('td', (c.mode || '–') + (c.pinned ? ` (pinned: ${c.pinned})` : ''), `policy policy-${c.mode || 'none'}`));
      row.appendChild(clipped('td', c.reason || ''));
      classes.appendChild(row);
    }
    el('classes-empty').hidden = p.classes.length > 0;

    const adapters = el('adapters-rows');
    adapters.replaceChildren();
    for (const a of p.adapters) {
      const row = make('tr');
      row.dataset.version = a.version;
      row.appendChild(make('th', a.version + (a.version === p.activeAdapter ? ' (active)' : ''))).setAttribute('scope', 'row');
      row.appendChild(make('td', a.status));
      const created = make('td', a.createdAt ? shortTime(a.createdAt) : '–');
      if (a.createdAt) created.title = fullTime(a.createdAt);
      row.appendChild(created);
      row.appendChild(clipped('td', metricsText(a.metrics)));
      adapters.appendChild(row);
    }
    el('adapters-empty').hidden = p.adapters.length > 0;
    renderTraining(p.training);
  }

  el('train-now').addEventListener('click', () => vscode.postMessage({ type: 'trainNow' }));
  el('cancel-training').addEventListener('click', () => vscode.postMessage({ type: 'cancelTraining' }));

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
      case 'decisionRecorded':
        // the new row may belong on the current page under the current filters: ask again
        requestHistory();
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

  showTab(state.tab);
  vscode.postMessage({ type: 'ready' });
  requestHistory();
})();
