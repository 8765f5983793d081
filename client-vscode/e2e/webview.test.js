// The side panel's webview, alone in headless Chromium: the real HTML (renderPanelHtml,
// compiled by `npm run compile-tests`), the real media/panel.js and panel.css, and a stub
// `acquireVsCodeApi` that records what the panel posts. Run with `node --test`.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { after, before, beforeEach, describe, it } = require('node:test');
const { pathToFileURL } = require('node:url');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..');
const { renderPanelHtml } = require(path.join(ROOT, 'out', 'test', 'src', 'webviewHtml.js'));

let browser;
let page;
let htmlFile;
let violations;

function decision(i, extra = {}) {
  return {
    seq: 100 - i,
    ts: `2026-01-02T03:04:${String(i % 60).padStart(2, '0')}+00:00`,
    outcome: i % 2 ? 'rejected' : 'accepted',
    actor: 'user',
    proposalId: `p${i}`,
    classKey: 'improve|python|src|s',
    path: `src/file${i}.py`,
    uri: null,
    model: 'embedded:smollm2',
    adapterVersion: i === 0 ? 'v2' : null,
    reason: i % 2 ? 'not needed' : null,
    before: null,
    after: null,
    hunks: null,
    line: 7,
    ...extra,
  };
}

function historyPage(offset, total, count) {
  return { items: Array.from({ length: count }, (_, i) => decision(offset + i)), total, offset, limit: 25 };
}

/** Sends a message to the panel as the extension host would. */
async function hostSays(message) {
  await page.evaluate((m) => window.postMessage(m, '*'), message);
}

/** Waits until the panel has posted a message containing `expected` (a deep subset). */
async function posted(expected) {
  const handle = await page.waitForFunction((exp) => {
    const sub = (a, b) =>
      typeof b !== 'object' || b === null ? a === b : Object.keys(b).every((k) => a != null && sub(a[k], b[k]));
    return window.__posted.find((m) => sub(m, exp)) || null;
  }, expected);
  return handle.jsonValue();
}

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-webview-'));
  htmlFile = path.join(dir, 'panel.html');
  fs.writeFileSync(
    htmlFile,
    renderPanelHtml({
      cspSource: 'file:',
      nonce: 'TestNonce123',
      scriptUri: pathToFileURL(path.join(ROOT, 'media', 'panel.js')).href,
      styleUri: pathToFileURL(path.join(ROOT, 'media', 'panel.css')).href,
    }),
  );
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
});

beforeEach(async () => {
  page = await browser.newPage();
  violations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.addInitScript(() => {
    window.__posted = [];
    window.__state = undefined;
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => window.__state,
      setState: (s) => {
        window.__state = s;
      },
    });
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Content Security Policy violation: ${e.violatedDirective}`);
    });
    // a theme: the panel must take its colours from these variables
    document.addEventListener('DOMContentLoaded', () => {
      document.documentElement.style.setProperty('--vscode-foreground', 'rgb(1, 2, 3)');
      document.documentElement.style.setProperty('--vscode-button-background', 'rgb(4, 5, 6)');
    });
  });
  await page.goto(pathToFileURL(htmlFile).href);
  await posted({ type: 'ready' });
});

/** A decision row (`li`) of the history list by position. */
const row = (i) => page.locator('#history-list > li').nth(i);

describe('history', () => {
  it('asks for the first page on load and renders the answer as a labelled list', async () => {
    const q = await posted({ type: 'history' });
    assert.deepEqual(q.query, { offset: 0, limit: 25, search: '', outcome: '', actor: '', classKey: '' });
    await hostSays({ type: 'history', page: historyPage(0, 30, 25) });
    await page.locator('#history-list > li:nth-child(25)').waitFor();
    assert.equal(await row(0).locator('.where').textContent(), 'file0.py:7');
    assert.equal(await row(0).locator('.what').textContent(), 'accepted');
    assert.equal(await row(1).locator('.why').textContent(), 'not needed');
    assert.equal(await row(0).locator('.icon').getAttribute('aria-hidden'), 'true');
    assert.equal(await page.locator('#history-page').textContent(), '1–25 of 30');
    assert.equal(await page.locator('#history-prev').isDisabled(), true);
    assert.equal(await page.locator('#history-next').isDisabled(), false);
    assert.equal(await page.locator('#history-list').getAttribute('aria-label'), 'Decision history');
  });

  it('says a partial accept in words: which hunks of how many', async () => {
    const partly = decision(0, { outcome: 'partly_accepted', hunks: [0, 2], hunksTotal: 3, reason: 'hunk 2: too clever' });
    await hostSays({ type: 'history', page: { items: [partly], total: 1, offset: 0, limit: 25 } });
    await row(0).waitFor();
    assert.equal(await row(0).locator('.what').textContent(), 'partly accepted: hunks 1, 3 of 3');
    assert.equal(await row(0).locator('.why').textContent(), 'hunk 2: too clever');
  });

  it('keeps the filters behind a button; pages, filters and searches through messages', async () => {
    await hostSays({ type: 'history', page: historyPage(0, 30, 25) });
    await page.locator('#history-list > li:nth-child(25)').waitFor();
    assert.equal(await page.isVisible('#history-outcome'), false);
    await page.click('#filters-toggle');
    assert.equal(await page.getAttribute('#filters-toggle', 'aria-expanded'), 'true');
    await page.click('#history-next');
    await posted({ type: 'history', query: { offset: 25 } });
    await page.selectOption('#history-outcome', 'rejected');
    await posted({ type: 'history', query: { outcome: 'rejected', offset: 0 } });
    assert.equal(await page.locator('#filters-count').textContent(), '1');
    await page.fill('#history-search', 'cart');
    await posted({ type: 'history', query: { search: 'cart' } });
    await page.fill('#history-class', 'document|python');
    await page.press('#history-class', 'Enter');
    await posted({ type: 'history', query: { classKey: 'document|python', search: 'cart' } });
  });

  it('expands a row to its details and diff, opens the diff, moves with the arrows', async () => {
    const items = [decision(0), { ...decision(1), proposalId: null, outcome: 'adapter_promoted' }, decision(2)];
    await hostSays({ type: 'history', page: { items, total: 3, offset: 0, limit: 25 } });
    await row(2).waitFor();
    const summary = row(0).locator('.summary');
    await summary.focus();
    await page.keyboard.press('Enter');
    assert.equal(await summary.getAttribute('aria-expanded'), 'true');
    const asked = await posted({ type: 'diff' });
    assert.equal(asked.decision.proposalId, 'p0');
    await hostSays({ type: 'diff', seq: 100, diff: '--- a\n+++ b\n@@ -1 +1 @@\n-old line\n+new line\n' });
    await row(0).locator('.dl.add').waitFor();
    assert.equal(await row(0).locator('.dl.del').textContent(), '-old line');
    assert.match(await row(0).locator('.facts').textContent(), /Decided byuser/);
    await row(0).getByText('Open diff in editor').click();
    await posted({ type: 'open', decision: { proposalId: 'p0' } });
    await summary.focus();
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement.closest('li').dataset.seq), '99');
    await row(1).locator('.summary').click(); // no proposal: facts only, no diff asked
    assert.equal(await row(1).locator('pre.diff').count(), 0);
  });

  it('shows server text as text, never as markup', async () => {
    const evil = decision(1, { reason: '<img src=x onerror="window.__pwned=1">', path: '<b>x</b>.py' });
    await hostSays({ type: 'history', page: { items: [evil], total: 1, offset: 0, limit: 25 } });
    await row(0).waitFor();
    assert.equal(await page.locator('#history-list img, #history-list b').count(), 0);
    assert.equal(await row(0).locator('.why').textContent(), evil.reason);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  });

  it('asks again when a decision is recorded (live updates)', async () => {
    await hostSays({ type: 'history', page: historyPage(0, 1, 1) });
    const before = await page.evaluate(() => window.__posted.filter((m) => m.type === 'history').length);
    await hostSays({ type: 'decisionRecorded', decision: decision(5) });
    await page.waitForFunction((n) => window.__posted.filter((m) => m.type === 'history').length > n, before);
  });
});

const profile = {
  classes: [
    { classKey: 'improve|python|src|s', n: 20, mean: 0.93, lower: 0.85, upper: 0.98, credibleMass: 0.8, mode: 'auto', reason: 'auto: lower 0.85 >= 0.85', mature: true, pinned: null, accepts: 19, rejects: 1 },
    { classKey: 'document|python|docs|s', n: 12, mean: 0.6, lower: 0.4, upper: 0.78, credibleMass: 0.8, mode: 'ask', reason: 'ask: interval [0.40, 0.78]', mature: false, pinned: null, accepts: 7, rejects: 5 },
    { classKey: 'tests|python|tests|m', n: 3, mean: 0.2, lower: 0.05, upper: 0.5, credibleMass: 0.8, mode: 'quiet', reason: 'quiet', mature: false, pinned: 'always_ask', accepts: 0, rejects: 3 },
  ],
  adapters: [
    { version: 'v1', status: 'retired', createdAt: '2026-01-01T00:00:00+00:00', parent: null, metrics: { preference_accuracy: 0.61, pairs_margin: null } },
    { version: 'v2', status: 'active', createdAt: '2026-01-02T00:00:00+00:00', parent: 'v1', metrics: { preference_accuracy: 0.9734, eval_loss: 0.41, pairs: 48 } },
  ],
  training: { state: 'idle', phase: null, step: null, total: null, message: null, adapterVersion: null, lastResult: null },
  activeAdapter: 'v2',
  production: { pending: 2, confirmed: 3, overturned: 1, discarded: 0, byVerdict: { accept: 4, reject: 2 } },
  savings: {
    teacher: 'anthropic/claude-sonnet-4', proposals: 12, promptTokens: 5400, completionTokens: 900, usd: 0.0297, note: '',
    summary: 'savings: the local student answered 12 proposals instead of anthropic/claude-sonnet-4: 5,400 prompt + 900 completion tokens, $0.0297 at the teacher\'s price',
  },
};

/** Decisions made through `tether serve`, as tether/production sends them (newest first). */
function productionItem(seq, extra = {}) {
  return {
    seq, ts: '2026-01-02T03:04:05+00:00', proposalId: `api${seq}`, classKey: 'improve|python|src|s',
    path: 'service/handlers.py', verdict: 'accept', text: null, reason: null, tokenId: 'tok_1a2b',
    review: 'pending', reviewedSeq: null, ...extra,
  };
}
const productionAnswer = {
  items: [
    productionItem(41, { verdict: 'correct', text: 'def handler(request):\n    return ok(request)\n' }),
    productionItem(40, { verdict: 'reject', reason: 'breaks the API' }),
    productionItem(30, { review: 'confirm', reviewedSeq: 33 }),
  ],
  counts: { pending: 2, confirmed: 1, overturned: 0, discarded: 0, byVerdict: { accept: 1, reject: 1, correct: 1 } },
};
const prow = (i) => page.locator('#production-list > li').nth(i);

describe('production decisions (tether serve) awaiting review', () => {
  it('stays hidden with none, and lists them pending first with Confirm / Overturn / Discard', async () => {
    await posted({ type: 'production' });
    await hostSays({ type: 'production', production: { items: [], counts: productionAnswer.counts } });
    assert.equal(await page.isVisible('#production'), false);
    await hostSays({ type: 'production', production: productionAnswer });
    await page.locator('#production').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#production-count').textContent(), '2 to review');
    assert.equal(await prow(0).locator('.what').textContent(), 'API corrected');
    assert.equal(await prow(0).locator('.review-state').textContent(), 'awaiting review');
    assert.equal(await prow(2).locator('.review-state').textContent(), 'confirmed');
    await prow(1).locator('.summary').click();
    const diffAsked = await posted({ type: 'diff', decision: { seq: 40, proposalId: 'api40' } });
    assert.equal(diffAsked.decision.verdict, 'reject');
    await hostSays({ type: 'diff', seq: 40, diff: '@@ -1 +1 @@\n-x=1\n+x = 1\n' });
    await prow(1).locator('.dl.add').waitFor();
    const buttons = await prow(1).locator('.actions button').allTextContents();
    assert.deepEqual(buttons, ['Confirm', 'Overturn: accept', 'Discard', 'Open diff in editor']);
    assert.match(await prow(1).locator('.facts').textContent(), /rejected by an API client.*tok_1a2b.*breaks the API/);
    await prow(1).locator('button[data-review="overturn"]').click();
    await posted({ type: 'review', seq: 40, action: 'overturn' });
    assert.equal(await prow(1).locator('button[data-review="confirm"]').isDisabled(), true);
    await hostSays({ type: 'reviewed', seq: 40, action: 'overturn', pending: 1 });
    assert.match(await page.locator('#production-status').textContent(), /Overturned: now a decision of yours.*1 left to review/);
    await hostSays({ type: 'reviewed', seq: 40, action: 'overturn', error: 'the production decision at row 40 was already reviewed.' });
    assert.match(await page.locator('#production-status').textContent(), /already reviewed/);
  });

  it('a production row of the history leads to its review above', async () => {
    await hostSays({ type: 'production', production: productionAnswer });
    const fromApi = decision(0, { seq: 40, outcome: 'production', actor: 'user', proposalId: 'api40' });
    await hostSays({ type: 'history', page: { items: [fromApi], total: 1, offset: 0, limit: 25 } });
    await row(0).locator('.summary').click();
    await row(0).getByText('Review…').click();
    await prow(1).locator('button[data-review="confirm"]').waitFor();
    assert.equal(await prow(1).locator('.summary').getAttribute('aria-expanded'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.closest('li').dataset.seq), '40');
  });

  it('shows a correction with its text, opens the diff read-only, and has no review buttons once reviewed', async () => {
    await hostSays({ type: 'production', production: productionAnswer });
    await prow(0).locator('.summary').click();
    assert.match(await prow(0).locator('pre.correction').textContent(), /return ok\(request\)/);
    assert.equal(await prow(0).locator('button[data-review="confirm"]').textContent(), 'Confirm correction');
    await prow(0).locator('.actions button', { hasText: 'Open diff in editor' }).click();
    await posted({ type: 'openProduction', item: { seq: 41, proposalId: 'api41' } });
    await prow(2).locator('.summary').click();
    assert.deepEqual(await prow(2).locator('.actions button').allTextContents(), ['Open diff in editor']);
  });

  it('shows the student model and asks the host for the choices', async () => {
    await hostSays({ type: 'showTab', tab: 'profile' });
    await hostSays({ type: 'student', current: 'ollama:tether-v2' });
    assert.equal(await page.locator('#student-current').textContent(), 'Proposals come from ollama:tether-v2.');
    await page.click('#choose-student');
    await posted({ type: 'chooseStudent' });
  });

  it('puts the production tally and the savings on the profile tab', async () => {
    await hostSays({ type: 'showTab', tab: 'profile' });
    await hostSays({ type: 'profile', profile });
    await page.locator('#classes-list > li:nth-child(3)').waitFor();
    assert.match(await page.locator('#living-production').textContent(), /2 awaiting review, 3 confirmed, 1 overturned, 0 discarded/);
    assert.match(await page.locator('#living-savings').textContent(), /^Savings: the local student answered 12 proposals.*\$0\.0297/);
  });
});

describe('profile', () => {
  it('switches tabs by click and by arrow keys, and asks for the profile', async () => {
    await page.click('#tab-profile');
    assert.equal(await page.getAttribute('#tab-profile', 'aria-selected'), 'true');
    assert.equal(await page.isVisible('#panel-profile'), true);
    assert.equal(await page.isVisible('#panel-history'), false);
    await posted({ type: 'profile' });
    await page.focus('#tab-profile');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getAttribute('#tab-history', 'aria-selected'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-history');
  });

  it('shows each class as an interval bar with its policy and one sentence, numbers on hover', async () => {
    await hostSays({ type: 'showTab', tab: 'profile' });
    await hostSays({ type: 'profile', profile });
    await page.locator('#classes-list > li:nth-child(3)').waitFor();
    const auto = page.locator('#classes-list > li').first();
    assert.equal(await auto.locator('.badge').textContent(), 'auto');
    assert.equal(await auto.locator('.sentence').textContent(), 'Applies these on its own: you accepted 19 of 20. It still asks now and then.');
    assert.match(await auto.getAttribute('title'), /approval 93% \(85%–98%\), 20 decisions\npolicy: auto: lower/);
    assert.match(await auto.locator('.interval-range').getAttribute('style'), /left: 85%/);
    assert.match(await page.locator('#classes-list > li').nth(1).locator('.sentence').textContent(), /^Asks you: you accepted 7 of 12/);
    assert.match(await page.locator('#classes-list > li').nth(2).locator('.sentence').textContent(), /^Pinned: always ask/);
    const text = await page.locator('#panel-profile').textContent();
    assert.doesNotMatch(text, /null|pairs_margin|preference_accuracy/); // no raw metric dump
  });

  it('lists adapters as versions with a short eval line', async () => {
    await hostSays({ type: 'showTab', tab: 'profile' });
    await hostSays({ type: 'profile', profile });
    const v2 = page.locator('#adapters-list > li[data-version="v2"]');
    await v2.waitFor();
    assert.match(await v2.locator('.adapter-head').textContent(), /^v2active/);
    assert.equal(await v2.locator('.sentence').textContent(), 'prefers your choice 97% of the time · loss 0.410 · 48 examples');
    assert.match(await v2.getAttribute('title'), /preference_accuracy: 0.973/);
    assert.equal(await page.isVisible('#adapters-empty'), false);
  });

  it('moves the training bar with the steps and shows the phase; Train now / Cancel post', async () => {
    await hostSays({ type: 'showTab', tab: 'profile' });
    await hostSays({ type: 'profile', profile });
    await page.click('#train-now');
    await posted({ type: 'trainNow' });
    const running = (step, phase) => ({ ...profile.training, state: 'running', phase, step, total: 8, message: null });
    await hostSays({ type: 'training', training: running(null, 'loading') });
    await page.waitForFunction(() => !document.querySelector('#training-progress').hasAttribute('value'));
    assert.equal(await page.locator('#training-phase').textContent(), 'loading');
    await hostSays({ type: 'training', training: running(2, 'training') });
    await page.waitForFunction(() => document.querySelector('#training-progress').value === 25);
    await hostSays({ type: 'training', training: running(6, 'training') });
    await page.waitForFunction(() => document.querySelector('#training-progress').value === 75);
    assert.equal(await page.locator('#training-step').textContent(), 'step 6 of 8');
    assert.equal(await page.isDisabled('#train-now'), true);
    await page.click('#cancel-training');
    await posted({ type: 'cancelTraining' });
  });
});

describe('welcome', () => {
  it('shows the next step on a first run, and why the server is down with a fix', async () => {
    await hostSays({ type: 'server', state: 'running', firstRun: true, modelHint: 'The embedded 135M model is for trying Tether offline.' });
    await page.locator('#welcome').waitFor({ state: 'visible' });
    assert.match(await page.locator('#welcome-steps').textContent(), /Tether: Ask…/);
    assert.match(await page.locator('#welcome-model').textContent(), /for trying Tether offline/);
    await page.locator('#welcome-actions button[data-command="ask"]').click();
    await posted({ type: 'command', command: 'ask' });
    await hostSays({ type: 'server', state: 'failed', problem: 'No Python interpreter with Tether installed was found (tried python3).', firstRun: false });
    assert.match(await page.locator('#welcome-problem').textContent(), /No Python interpreter with Tether/);
    await page.locator('#welcome-actions button[data-command="openSettings"]').click();
    await posted({ type: 'command', command: 'openSettings' });
    await hostSays({ type: 'server', state: 'running', firstRun: false });
    await page.locator('#welcome').waitFor({ state: 'hidden' });
  });
});

describe('the page itself', () => {
  it('labels every control and keeps the host’s theme', async () => {
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select')].filter((e) => e.labels.length === 0).map((e) => e.id),
    );
    assert.deepEqual(unlabelled, []);
    const nameless = await page.evaluate(() =>
      [...document.querySelectorAll('button')].filter((b) => !(b.getAttribute('aria-label') || b.textContent.trim())).map((b) => b.id),
    );
    assert.deepEqual(nameless, []);
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).color), 'rgb(1, 2, 3)');
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#train-now')).backgroundColor), 'rgb(4, 5, 6)');
  });

  it('runs under its Content-Security-Policy with no violation, and refuses inline script', async () => {
    await hostSays({ type: 'history', page: historyPage(0, 3, 3) });
    await page.locator('#history-list > li:nth-child(3)').waitFor();
    assert.deepEqual(violations, []);
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.appendChild(s);
    });
    await page.waitForFunction(() => window.__posted !== undefined);
    assert.equal(await page.evaluate(() => window.__inline), undefined);
  });

  it('shows errors from the host in an alert', async () => {
    await hostSays({ type: 'error', message: 'History: the server is not running' });
    await page.locator('#error[role="alert"]').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#error').textContent(), 'History: the server is not running');
  });
});

// VS Code's Light+, Dark+ and Dark High Contrast colours for the variables the panel uses.
const THEMES = {
  light: {
    foreground: '#616161', 'sideBar-background': '#f3f3f3', 'panelTitle-activeForeground': '#424242',
    'panelTitle-inactiveForeground': '#6f6f6f', 'panelTitle-activeBorder': '#424242', 'button-background': '#007acc',
    'button-foreground': '#ffffff', 'button-secondaryBackground': '#5f6a79', 'button-secondaryForeground': '#ffffff',
    descriptionForeground: '#717171', 'list-hoverBackground': '#e8e8e8', 'list-inactiveSelectionBackground': '#e4e6f1',
    'badge-background': '#c4c4c4', 'badge-foreground': '#333333', 'testing-iconPassed': '#388a34',
    'testing-iconFailed': '#e51400', errorForeground: '#a1260d', 'progressBar-background': '#0e70c0',
    'input-background': '#ffffff', 'input-foreground': '#616161', focusBorder: '#0090f1', 'widget-border': '#d4d4d4',
    'editor-background': '#ffffff', 'textCodeBlock-background': '#dcdcdc66',
    'diffEditor-insertedLineBackground': '#9bb95533', 'diffEditor-removedLineBackground': '#ff000033',
  },
  dark: {
    foreground: '#cccccc', 'sideBar-background': '#252526', 'panelTitle-activeForeground': '#e7e7e7',
    'panelTitle-inactiveForeground': '#9d9d9d', 'panelTitle-activeBorder': '#e7e7e7', 'button-background': '#0e639c',
    'button-foreground': '#ffffff', 'button-secondaryBackground': '#3a3d41', 'button-secondaryForeground': '#ffffff',
    descriptionForeground: '#a0a0a0', 'list-hoverBackground': '#2a2d2e', 'list-inactiveSelectionBackground': '#37373d',
    'badge-background': '#4d4d4d', 'badge-foreground': '#ffffff', 'testing-iconPassed': '#73c991',
    'testing-iconFailed': '#f14c4c', errorForeground: '#f48771', 'progressBar-background': '#0e70c0',
    'input-background': '#3c3c3c', 'input-foreground': '#cccccc', focusBorder: '#007fd4', 'widget-border': '#303031',
    'editor-background': '#1e1e1e', 'textCodeBlock-background': '#0a0a0a66',
    'diffEditor-insertedLineBackground': '#9bb95533', 'diffEditor-removedLineBackground': '#ff000033',
  },
  // Dark High Contrast: black backgrounds, and borders (contrastBorder) where other themes use fills.
  'high-contrast': {
    foreground: '#ffffff', 'sideBar-background': '#000000', 'panelTitle-activeForeground': '#ffffff',
    'panelTitle-inactiveForeground': '#ffffff', 'panelTitle-activeBorder': '#f38518', 'button-background': '#000000',
    'button-foreground': '#ffffff', 'button-border': '#6fc3df', 'button-secondaryBackground': '#000000',
    'button-secondaryForeground': '#ffffff', descriptionForeground: '#ffffff', 'list-hoverBackground': '#000000',
    'list-inactiveSelectionBackground': '#000000', 'badge-background': '#000000', 'badge-foreground': '#ffffff',
    'testing-iconPassed': '#73c991', 'testing-iconFailed': '#f14c4c', errorForeground: '#f48771',
    'progressBar-background': '#6fc3df', 'input-background': '#000000', 'input-foreground': '#ffffff',
    'input-border': '#6fc3df', focusBorder: '#f38518', contrastBorder: '#6fc3df', contrastActiveBorder: '#f38518',
    'widget-border': '#6fc3df', 'editor-background': '#000000', 'textCodeBlock-background': '#000000',
    'diffEditor-insertedLineBackground': '#00000000', 'diffEditor-removedLineBackground': '#00000000',
  },
};

const ARTIFACTS = process.env.TETHER_ARTIFACTS || path.join(ROOT, 'test-artifacts');

/** WCAG contrast of two computed `rgb(…)` colours. */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map((v) => {
      const x = Number(v) / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe('in a 300 px side bar, light, dark and high contrast', () => {
  for (const [name, colours] of Object.entries(THEMES)) {
    it(`fits without horizontal scrolling and reads well (${name})`, async () => {
      await page.setViewportSize({ width: 300, height: 720 });
      await page.evaluate((vars) => {
        for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(`--vscode-${k}`, v);
      }, colours);
      const long = decision(0, {
        outcome: 'partly_accepted', hunks: [0], hunksTotal: 2,
        path: 'src/a/very/long/package/path/with_a_long_module_name_that_would_not_fit.py',
        reason: 'hunk 2: keep the original variable names, they match the paper the code follows',
      });
      const items = [long, ...historyPage(1, 30, 9).items];
      await hostSays({ type: 'production', production: productionAnswer });
      await hostSays({ type: 'history', page: { items, total: 30, offset: 0, limit: 25 } });
      await row(9).waitFor();
      await row(0).locator('.summary').click();
      await hostSays({ type: 'diff', seq: 100, diff: `@@ -1 +1 @@\n-${'x'.repeat(120)}\n+${'y = compute(alpha, beta, gamma) '.repeat(4)}\n` });
      await row(0).locator('.dl.add').waitFor();
      const fits = () => page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      let [scroll, width] = await fits();
      assert.ok(scroll <= width, `history scrolls sideways: ${scroll} > ${width}`);
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const historyShot = path.join(ARTIFACTS, `panel-history-${name}.png`);
      await page.screenshot({ path: historyShot, fullPage: true });
      assert.ok(fs.statSync(historyShot).size > 2000);

      // the active tab is readable: its text against the side bar, not blue on blue
      const tab = await page.evaluate(() => {
        const t = document.querySelector('#tab-history');
        return [getComputedStyle(t).color, getComputedStyle(document.body).backgroundColor, getComputedStyle(t).backgroundColor];
      });
      assert.ok(contrast(tab[0], tab[1]) >= 4.5, `active tab contrast ${contrast(tab[0], tab[1]).toFixed(2)} (${tab})`);
      assert.equal(tab[2], 'rgba(0, 0, 0, 0)', 'the active tab has no button background');

      await hostSays({ type: 'showTab', tab: 'profile' });
      await hostSays({ type: 'profile', profile: { ...profile, training: { ...profile.training, state: 'running', phase: 'training', step: 3, total: 8 } } });
      await page.locator('#classes-list > li:nth-child(3)').waitFor();
      [scroll, width] = await fits();
      assert.ok(scroll <= width, `profile scrolls sideways: ${scroll} > ${width}`);
      const profileShot = path.join(ARTIFACTS, `panel-profile-${name}.png`);
      await page.screenshot({ path: profileShot, fullPage: true });
      assert.ok(fs.statSync(profileShot).size > 2000);
      // every visible element lies inside the view
      const outside = await page.evaluate(() =>
        [...document.querySelectorAll('body *')]
          .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
          .map((e) => e.id || e.className),
      );
      assert.deepEqual(outside, []);
    });
  }
});
