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

describe('history', () => {
  it('asks for the first page on load and renders the answer as a labelled table', async () => {
    const q = await posted({ type: 'history' });
    assert.deepEqual(q.query, { offset: 0, limit: 25, search: '', outcome: '', actor: '', classKey: '' });
    await hostSays({ type: 'history', page: historyPage(0, 30, 25) });
    await page.locator('#history-rows tr:nth-child(25)').waitFor();
    const first = await page.locator('#history-rows tr').first().locator('td').allTextContents();
    assert.equal(first[1], 'src/file0.py');
    assert.equal(first[2], 'improve|python|src|s');
    assert.equal(first[3], 'accepted');
    assert.equal(first[4], 'user');
    assert.equal(first[6], 'embedded:smollm2 / v2');
    assert.equal(await page.locator('#history-page').textContent(), '1–25 of 30 (page 1 of 2)');
    assert.equal(await page.locator('#history-prev').isDisabled(), true);
    assert.equal(await page.locator('#history-next').isDisabled(), false);
    assert.equal(await page.locator('#history-table').getAttribute('aria-label'), 'Decision history');
  });

  it('pages, filters and searches through messages to the host', async () => {
    await hostSays({ type: 'history', page: historyPage(0, 30, 25) });
    await page.locator('#history-rows tr:nth-child(25)').waitFor();
    await page.click('#history-next');
    await posted({ type: 'history', query: { offset: 25 } });
    await page.selectOption('#history-outcome', 'rejected');
    await posted({ type: 'history', query: { outcome: 'rejected', offset: 0 } });
    await page.fill('#history-search', 'cart');
    await posted({ type: 'history', query: { search: 'cart' } });
    await page.fill('#history-class', 'document|python');
    await page.press('#history-class', 'Enter');
    await posted({ type: 'history', query: { classKey: 'document|python', search: 'cart' } });
  });

  it('opens a row with Enter or a click, and moves between rows with the arrows', async () => {
    const items = [decision(0), { ...decision(1), proposalId: null, outcome: 'adapter_promoted' }, decision(2)];
    await hostSays({ type: 'history', page: { items, total: 3, offset: 0, limit: 25 } });
    await page.locator('#history-rows tr:nth-child(3)').waitFor();
    const rows = page.locator('#history-rows tr');
    assert.equal(await rows.nth(1).getAttribute('tabindex'), null, 'a row without a proposal is not focusable');
    await rows.nth(0).focus();
    await page.keyboard.press('Enter');
    const opened = await posted({ type: 'open' });
    assert.equal(opened.decision.proposalId, 'p0');
    await page.keyboard.press('ArrowDown'); // skips the row without a proposal
    assert.equal(await page.evaluate(() => document.activeElement.dataset.seq), '98');
    await rows.nth(2).click();
    await posted({ type: 'open', decision: { proposalId: 'p2' } });
  });

  it('shows server text as text, never as markup', async () => {
    const evil = decision(1, { reason: '<img src=x onerror="window.__pwned=1">', path: '<b>x</b>.py' });
    await hostSays({ type: 'history', page: { items: [evil], total: 1, offset: 0, limit: 25 } });
    await page.locator('#history-rows tr').first().waitFor();
    assert.equal(await page.locator('#history-rows img, #history-rows b').count(), 0);
    assert.equal(await page.locator('#history-rows td').nth(5).textContent(), evil.reason);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  });

  it('asks again when a decision is recorded (live updates)', async () => {
    await hostSays({ type: 'history', page: historyPage(0, 1, 1) });
    const before = await page.evaluate(() => window.__posted.filter((m) => m.type === 'history').length);
    await hostSays({ type: 'decisionRecorded', decision: decision(5) });
    await page.waitForFunction((n) => window.__posted.filter((m) => m.type === 'history').length > n, before);
  });
});

describe('profile', () => {
  const profile = {
    classes: [
      { classKey: 'improve|python|src|s', n: 12, mean: 0.8, lower: 0.6, upper: 0.92, credibleMass: 0.9, mode: 'ask', reason: 'interval still wide', mature: false, pinned: null },
      { classKey: 'document|python|docs|s', n: 3, mean: 0.2, lower: 0.05, upper: 0.5, credibleMass: 0.9, mode: 'quiet', reason: 'you reject these', mature: false, pinned: 'always_ask' },
    ],
    adapters: [
      { version: 'v1', status: 'retired', createdAt: '2026-01-01T00:00:00+00:00', parent: null, metrics: { auc: 0.61 } },
      { version: 'v2', status: 'active', createdAt: '2026-01-02T00:00:00+00:00', parent: 'v1', metrics: { auc: 0.7234, heldout_labels: 6 } },
    ],
    training: { state: 'idle', phase: null, step: null, total: null, message: null, adapterVersion: null, lastResult: null },
    activeAdapter: 'v2',
  };

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

  it('renders classes with their interval and policy, adapters with their metrics', async () => {
    await hostSays({ type: 'showTab', tab: 'profile' });
    await hostSays({ type: 'profile', profile });
    await page.locator('#classes-rows tr:nth-child(2)').waitFor();
    const cls = await page.locator('#classes-rows tr').first().locator('th, td').allTextContents();
    assert.equal(cls[0], 'improve|python|src|s');
    assert.match(cls[1], /^80% \(60%–92%\)/);
    assert.equal(cls[2], '12');
    assert.equal(cls[3], 'ask');
    assert.equal(cls[4], 'interval still wide');
    assert.match(await page.locator('#classes-rows tr').nth(1).textContent(), /quiet \(pinned: always_ask\)/);
    const bar = await page.locator('#classes-rows tr').first().locator('.interval-range').getAttribute('style');
    assert.match(bar, /left: 60%/);
    const v2 = await page.locator('#adapters-rows tr[data-version="v2"]').textContent();
    assert.match(v2, /v2 \(active\)/);
    assert.match(v2, /auc: 0\.723, heldout_labels: 6/);
    assert.equal(await page.isVisible('#adapters-empty'), false);
  });

  it('shows training progress, and Train now / Cancel post to the host', async () => {
    await hostSays({ type: 'showTab', tab: 'profile' });
    await hostSays({ type: 'profile', profile });
    await page.click('#train-now');
    await posted({ type: 'trainNow' });
    await hostSays({ type: 'training', training: { ...profile.training, state: 'running', phase: 'training', step: 2, total: 8, message: 'step 2/8' } });
    await page.waitForFunction(() => document.querySelector('#training-progress').value === 25);
    assert.equal(await page.isDisabled('#train-now'), true);
    assert.match(await page.locator('#training-state').textContent(), /running: step 2\/8 \(2\/8\)/);
    await page.click('#cancel-training');
    await posted({ type: 'cancelTraining' });
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
    await page.locator('#history-rows tr:nth-child(3)').waitFor();
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
