// Drives the real VS Code workbench (code-server) in Debian's Chromium for the end-to-end
// test. pytest starts code-server and this driver, then sends one JSON line per step on
// stdin ({"step": NAME, "args": {...}}); the driver answers one JSON line per step on stdout
// ({"step", "ok", "result"} or {"step", "ok": false, "error", "screenshot"}), so pytest can
// check the real SQLite store between steps. Every wait is on a selector or a condition;
// nothing sleeps for a fixed time.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { chromium } = require('playwright-core');

const STATUS = '[id="tether.tether.tether.status"]';
const WAIT = Number(process.env.TETHER_E2E_WAIT_MS || 60000);
const TRAIN_WAIT = Number(process.env.TETHER_E2E_TRAIN_WAIT_MS || 300000);

let browser;
let page;
let shots = process.env.TETHER_E2E_OUT || '/tmp';

function log(...args) {
  process.stderr.write(`driver: ${args.join(' ')}\n`);
}

async function runCommand(title) {
  // (no Escape first: in an editor it would drop the selection the command works on)
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  const row = page.locator(`.quick-input-list .monaco-list-row[aria-label^="${title}"]`).first();
  await row.waitFor({ state: 'visible' });
  await row.click();
}

async function pickQuick(label) {
  const row = page.locator(`.quick-input-list .monaco-list-row[aria-label*="${label}"]`).first();
  await row.waitFor({ state: 'visible' });
  await row.click();
}

/**
 * Picks `title` in the code action menu with the keyboard (the menu puts a pointer-blocking
 * layer over the page while it is open, so clicks do not reach it).
 */
async function pickCodeAction(title, reposition = async () => {}) {
  const menu = page.locator('.action-widget');
  const none = page.locator('.monaco-editor-overlaymessage', { hasText: 'No code actions available' });
  // Ctrl+. while the server republishes diagnostics can come back empty (the editor cancels
  // the request when markers change); a person would press it again, and so does this.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Control+.');
    await menu.or(none).first().waitFor({ state: 'visible' });
    if (await menu.isVisible()) break;
    if (attempt === 3) throw new Error('no code actions after three tries');
    log(`no code actions on try ${attempt}; again`);
    await page.keyboard.press('Escape');
    // the "no code actions" message only goes away when the cursor moves: put it back
    await reposition();
    await none.waitFor({ state: 'hidden' });
  }
  const target = menu.locator('.monaco-list-row.focused', { hasText: title });
  const rows = await menu.locator('.monaco-list-row.action').allTextContents();
  if (!rows.some((t) => t.includes(title))) {
    throw new Error(`no code action ${title} in ${JSON.stringify(rows)}`);
  }
  for (let i = 0; i < rows.length && (await target.count()) === 0; i++) {
    await page.keyboard.press('ArrowDown');
  }
  await target.waitFor();
  await page.keyboard.press('Enter');
  await menu.waitFor({ state: 'hidden' });
  return rows.map((t) => t.trim());
}

async function openFile(relPath) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(relPath);
  await page.locator(`.quick-input-list .monaco-list-row[aria-label*="${path.basename(relPath)}"]`).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator(`.tab.active[aria-label^="${path.basename(relPath)}"]`).waitFor();
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
}

/** Selects whole lines `from`..`to` (1-based, inclusive) in the active editor. */
async function selectLines(from, to) {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`:${from}`);
  await page.keyboard.press('Enter');
  await input.waitFor({ state: 'hidden' });
  await page.keyboard.press('Home');
  await page.keyboard.press('Home');
  for (let i = from; i <= to; i++) {
    await page.keyboard.press('Shift+ArrowDown');
  }
  await page.locator('[id="status.editor.selection"]', { hasText: 'selected' }).waitFor();
}

async function statusText() {
  return (await page.locator(STATUS).textContent()) || '';
}

async function pendingCount() {
  const m = /(\d+) pending/.exec(await statusText());
  return m ? Number(m[1]) : 0;
}

/** Waits until the status bar counts `n` pending suggestions. */
async function waitPending(n) {
  await page.waitForFunction(
    ([sel, want]) => {
      const m = /(\d+) pending/.exec(document.querySelector(sel)?.textContent || '');
      return (m ? Number(m[1]) : 0) === want;
    },
    [STATUS, n],
  );
}

/** Waits until the active editor shows `text`. */
async function waitEditorText(text) {
  await page.waitForFunction(
    (want) =>
      [...document.querySelectorAll('.editor-group-container.active .monaco-editor .view-lines .view-line')]
        .map((l) => l.textContent.replace(/\u00a0/g, ' '))
        .some((t) => t.includes(want)),
    text,
  );
}

async function waitTabGone(titlePart) {
  await page.locator(`.tab[aria-label*="${titlePart}"]`).first().waitFor({ state: 'detached' });
}

async function editorText() {
  // for reporting only
  // Monaco renders lines as .view-line elements; order them by their top offset.
  return page.evaluate(() => {
    const lines = [...document.querySelectorAll('.editor-group-container.active .editor-instance .monaco-editor .view-lines .view-line')];
    return lines
      .map((l) => ({ top: parseFloat(l.style.top || '0'), text: l.textContent.replace(/\u00a0/g, ' ') }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text)
      .join('\n');
  });
}

async function diffTab(titlePart) {
  const tab = page.locator(`.tab[aria-label*="${titlePart}"]`).first();
  await tab.waitFor({ state: 'visible' });
  return tab;
}

/** Ask Tether for a suggestion on lines `from`..`to` with `task` through the palette. */
async function suggest(file, from, to, task) {
  await openFile(file);
  await selectLines(from, to);
  const before = await pendingCount();
  await runCommand('Tether: Suggest a Change');
  await pickQuick(task);
  const tab = await diffTab(`${task} (Tether`);
  await waitPending(before + 1); // the proposal arrived as a diagnostic
  return tab;
}

/** The Tether panel's content: a webview is an iframe holding the active-frame iframe. */
function panelFrame() {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

const steps = {
  async open({ url }) {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => log('page error:', e.message));
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor();
    // the status item shows a sparkle once the server answers initialize
    await page.locator(`${STATUS} .codicon-sparkle`).waitFor();
    const activity = await page.locator('.activitybar .action-item a[aria-label^="Tether"]').count();
    return { status: await statusText(), activityBarItem: activity > 0 };
  },

  /**
   * Review a suggestion in the diff: reject the hunks in `reject` and accept those in
   * `accept` through their CodeLenses (the verdict goes out once every hunk is decided),
   * then save the file.
   */
  async acceptInDiff({ file, first, last, task, accept, reject, expect, hunkReason = '' }) {
    await suggest(file, first, last, task);
    // Accept / Reject in the editor title, one CodeLens per hunk
    const titleAccept = page.locator('.editor-actions [aria-label^="Accept Suggestion"]').first();
    await titleAccept.waitFor({ state: 'visible' });
    const hasReject = (await page.locator('.editor-actions [aria-label^="Reject Suggestion"]').count()) > 0;
    // a lens with a command is a link; one without (a decided hunk) is plain text
    const lens = (text) => page.locator('.codelens-decoration > *', { hasText: text }).first();
    await lens(accept[0]).waitFor({ state: 'visible' });
    const lenses = (await page.locator('.codelens-decoration a').allTextContents()).map((t) => t.trim());
    let reasonPrompt = null;
    for (const label of reject) {
      await lens(label).click();
      // a rejected hunk asks for its reason (optional; Enter keeps none)
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible' });
      reasonPrompt = (await page.locator('.quick-input-widget').innerText()).replace(/\s+/g, ' ').trim();
      await input.fill(hunkReason);
      await page.keyboard.press('Enter');
      await lens(`${label.replace(/^Reject /, '')} rejected`).waitFor(); // the lens turns into "… rejected · Undo"
    }
    const afterReject = (await page.locator('.codelens-decoration > *').allTextContents()).map((t) => t.trim());
    for (const label of accept) {
      await lens(label).click();
    }
    await waitTabGone(`${task} (Tether`);
    await page.locator(`.tab.active[aria-label^="${path.basename(file)}"]`).waitFor();
    await waitEditorText(expect);
    // the accepted edit is in the buffer (dirty); save it and wait for the save
    await page.locator(`.tab.active.dirty[aria-label^="${path.basename(file)}"]`).waitFor();
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+S');
    await page.locator('.tab.active.dirty').waitFor({ state: 'detached' });
    await waitPending(0);
    return { lenses, afterReject, hasReject, reasonPrompt, status: await statusText() };
  },

  async rejectWithReason({ file, first, last, task, reason }) {
    await suggest(file, first, last, task);
    const pendingDuring = await pendingCount();
    const reject = page.locator('.editor-actions [aria-label^="Reject Suggestion"]').first();
    await reject.waitFor({ state: 'visible' });
    const rejectLabel = await reject.getAttribute('aria-label');
    // the keyboard shortcut, from the proposed side of the diff
    await page.locator('.editor-group-container.active .modified-in-monaco-diff-editor .view-lines').first().click();
    await page.keyboard.press('Control+Alt+N');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    const prompt = await page.locator('.quick-input-widget').textContent();
    await input.fill(reason);
    await page.keyboard.press('Enter');
    await waitTabGone(`${task} (Tether`);
    await waitPending(0);
    return { pendingDuring, prompt, rejectLabel, editor: await editorText() };
  },

  async riskyRejectInModal({ file, first, last, task }) {
    const before = await pendingCount();
    await openFile(file);
    await selectLines(first, last);
    await runCommand('Tether: Suggest a Change');
    await pickQuick(task);
    // the policy asks about a risky change in a modal dialog
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible' });
    const message = await dialog.locator('.dialog-message-container').innerText();
    const buttons = (await dialog.locator('.dialog-buttons .monaco-button').allTextContents()).map((t) => t.trim());
    const modal = (await page.locator('.monaco-dialog-modal-block').count()) > 0;
    await dialog.locator('.monaco-button', { hasText: /^Reject$/ }).click();
    await dialog.waitFor({ state: 'detached' });
    await waitPending(before);
    await waitTabGone(`${task} (Tether`);
    return { message, buttons, modal };
  },

  async verify() {
    await page.locator(`${STATUS} .codicon-sparkle`).waitFor();
    await runCommand('Tether: Verify Audit Log');
    const toast = page.locator('.notification-toast', { hasText: /Audit log (OK|BROKEN)/ }).last();
    await toast.waitFor({ state: 'visible' });
    const text = await toast.locator('.notification-list-item-message').innerText();
    return { text: text.replace(/\s+/g, ' ').trim(), status: await statusText() };
  },

  /** Ask through the light bulb (the server's per-task code action), then reject through a quick fix. */
  async quickFixReject({ file, first, last, task, reason }) {
    await openFile(file);
    await selectLines(first, last);
    const before = await pendingCount();
    await pickCodeAction(`Tether: ${task}`, () => selectLines(first, last));
    await waitPending(before + 1);
    // the suggestion is a diagnostic: its quick fixes sit under the cursor
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget input').fill(`:${first + 1}`);
    await page.keyboard.press('Enter');
    await page.locator('[id="status.editor.selection"]', { hasText: `Ln ${first + 1}, Col 1` }).waitFor();
    const toLine = async () => {
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowUp');
    };
    const fixes = await pickCodeAction('Tether: Reject with reason', toLine);
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(reason);
    await page.keyboard.press('Enter');
    await waitPending(before);
    return { fixes };
  },

  async specAndPin({ mode }) {
    await runCommand('Tether: Open Agent Spec');
    await page.locator('.tab.active[aria-label^="agent.md"]').waitFor();
    await waitEditorText('tasks:');
    await runCommand('Tether: Pin Decision Class');
    const classes = page.locator('.quick-input-list .monaco-list-row');
    await classes.first().waitFor();
    const picked = (await classes.first().getAttribute('aria-label')) || '';
    await classes.first().click();
    await pickQuick(mode);
    const toast = page.locator(".notification-toast", { hasText: /: (always ask|never apply automatically)\./ }).last();
    await toast.waitFor();
    return { picked, toast: (await toast.locator('.notification-list-item-message').innerText()).trim() };
  },

  async clearNotifications() {
    await runCommand('Notifications: Clear All Notifications');
    await page.locator('.notification-toast').first().waitFor({ state: 'detached' });
    return {};
  },

  async trainNow() {
    await runCommand('Tether: Train Now');
    const toast = page.locator('.notification-toast', { hasText: 'Tether: training' }).first();
    await toast.waitFor({ state: 'visible' });
    const progress = (await toast.locator('.monaco-progress-container').count()) > 0;
    const cancel = (await toast.locator('[aria-label*="Cancel"], a.monaco-button:has-text("Cancel")').count()) > 0;
    const progressText = (await toast.innerText()).replace(/\s+/g, ' ').trim();
    // the server announces the end ("Tether training promoted: …" or "refused: …")
    const done = page.locator('.notification-toast', { hasText: /Tether training (promoted|refused|skipped|failed|cancelled)/ }).first();
    await done.waitFor({ state: 'visible', timeout: TRAIN_WAIT });
    await toast.waitFor({ state: 'detached' });
    const doneText = await done.locator('.notification-list-item-message').innerText();
    return { progress, cancel, progressText, done: doneText.replace(/\s+/g, ' ').trim() };
  },

  async profile() {
    await runCommand('Tether: Show Profile');
    const frame = panelFrame();
    await frame.locator('#tab-profile[aria-selected="true"]').waitFor();
    await frame.locator('#adapters-list > li').first().waitFor();
    await frame.locator('#classes-list > li').first().waitFor();
    return {
      adapters: await frame.locator('#adapters-list > li').allTextContents(),
      classes: await frame.locator('#classes-list > li').allTextContents(),
      classTitles: await frame.locator('#classes-list > li').evaluateAll((lis) => lis.map((li) => li.title)),
      training: await frame.locator('#training').textContent(),
    };
  },

  async history({ open }) {
    await page.locator(STATUS).click(); // the status bar item opens the panel
    const frame = panelFrame();
    await frame.locator('#tab-history[aria-selected="true"]').waitFor();
    await frame.locator('#history-list > li').first().waitFor();
    const read = () =>
      frame.locator('#history-list > li').evaluateAll((lis) =>
        lis.map((li) => ({
          outcome: li.dataset.outcome,
          where: li.querySelector('.where')?.textContent || '',
          what: li.querySelector('.what')?.textContent || '',
          why: li.querySelector('.why')?.textContent || '',
        })),
      );
    const rows = await read();
    // filters sit behind a button; filter to rejected decisions: the panel asks again
    await frame.locator('#filters-toggle').click();
    await frame.locator('#history-outcome').selectOption('rejected');
    await frame.locator('#history-list > li:not([data-outcome="rejected"])').first().waitFor({ state: 'detached' });
    await frame.locator('#history-list > li[data-outcome="rejected"]').first().waitFor();
    const rejected = await frame.locator('#history-list > li').count();
    await frame.locator('#history-outcome').selectOption('');
    await frame.locator(`#history-list > li:nth-child(${rows.length})`).waitFor();
    let opened = null;
    let details = null;
    if (open) {
      // keyboard: Enter on a row expands it (details and diff); "Open diff in editor" opens it
      const row = frame.locator(`#history-list > li[data-outcome="${open}"]`).first();
      await row.locator('.summary').focus();
      await page.keyboard.press('Enter');
      await row.locator('pre.diff .dl').first().waitFor();
      details = await row.locator('.details').innerText();
      await row.getByText('Open diff in editor').click();
      const tab = await diffTab(`${open.replace(/_/g, ' ')} by user`);
      opened = await tab.getAttribute('aria-label');
    }
    const pageInfo = await frame.locator('#history-page').textContent();
    return { rows, rejected, opened, details, pageInfo };
  },

  /**
   * The History tab's "From production" (decisions an API client made through `tether
   * serve`): expands the first pending item, reads its details and diff, reviews it with
   * `action` (typing `reason` when asked), waits for the list to show it reviewed, opens its
   * diff read-only, and reads the Profile tab's production tally once it says `tally`.
   */
  async productionReview({ action, reason, tally: expected = 'confirmed' }) {
    await runCommand('Tether: Show Decision History');
    const frame = panelFrame();
    await frame.locator('#tab-history[aria-selected="true"]').waitFor();
    const item = frame.locator('#production-list > li[data-review="pending"]').first();
    await item.waitFor();
    const seq = await item.getAttribute('data-seq');
    const count = await frame.locator('#production-count').textContent();
    await item.locator('.summary').click();
    await item.locator('pre.diff .dl').first().waitFor();
    const details = await item.locator('.details').innerText();
    await item.locator(`button[data-review="${action}"]`).click();
    if (reason !== undefined) {
      // overturning an accept asks why (an input box in the workbench)
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible' });
      await input.fill(reason);
      await input.press('Enter');
    }
    const status = frame.locator('#production-status', { hasText: 'left to review' });
    await status.waitFor();
    const statusText = await status.textContent();
    const done = frame.locator(`#production-list > li[data-seq="${seq}"]:not([data-review="pending"])`);
    await done.waitFor();
    const review = await done.getAttribute('data-review');
    await done.getByText('Open diff in editor').click();
    const opened = await (await diffTab('production by API client')).getAttribute('aria-label');
    await frame.locator('#tab-profile').click();
    const tally = frame.locator('#living-production', { hasText: expected });
    await tally.waitFor();
    return { seq: Number(seq), count, details, status: statusText, review, opened, tally: await tally.textContent() };
  },

  /**
   * The Profile tab's Student model → Choose…: reads the quick pick's offers, picks the one
   * labelled `label`, and waits until VS Code has written `tether.model` to the user
   * settings `file` (woken by the file system).
   */
  async chooseStudent({ label, file }) {
    await runCommand('Tether: Show Profile');
    const frame = panelFrame();
    await frame.locator('#tab-profile[aria-selected="true"]').waitFor();
    const current = await frame.locator('#student-current', { hasText: 'Proposals come from' }).textContent();
    await frame.locator('#choose-student').click();
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.first().waitFor({ state: 'visible' });
    const offered = await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('aria-label') || ''));
    await pickQuick(label);
    const model = () => {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8'))['tether.model'];
      } catch {
        return undefined; // being written
      }
    };
    const before = model();
    await new Promise((resolve, reject) => {
      const finish = (error) => {
        clearTimeout(timer);
        watcher.close();
        if (error) reject(error);
        else resolve();
      };
      const watcher = fs.watch(path.dirname(file), () => model() !== before && finish());
      const timer = setTimeout(() => finish(new Error(`tether.model was not written to ${file}`)), WAIT);
      if (model() !== before) finish();
    });
    const shown = await frame.locator('#student-current', { hasText: label }).textContent();
    return { current, offered, written: model(), shown };
  },

  /** Waits for a notification showing `hasText` (a progress message, say): its whole text. */
  async notificationShows({ hasText }) {
    const toast = page.locator('.notification-toast', { hasText }).last();
    await toast.waitFor({ state: 'visible' });
    return { text: (await toast.locator('.notification-list-item-message').innerText()).replace(/\s+/g, ' ').trim() };
  },

  /** "Tether: Ask…" on lines `first`..`last` of `file`, in the user's `words`. */
  async ask({ file, first, last, words }) {
    await openFile(file);
    await selectLines(first, last);
    await runCommand('Tether: Ask');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    const prompt = (await page.locator('.quick-input-widget').innerText()).replace(/\s+/g, ' ').trim();
    await input.fill(words);
    await page.keyboard.press('Enter');
    return { prompt };
  },

  /** An error notification: its text and buttons; clicks `click` when given. */
  async errorToast({ hasText, click }) {
    const toast = page.locator('.notification-toast', { hasText }).last();
    await toast.waitFor({ state: 'visible' });
    const text = (await toast.locator('.notification-list-item-message').innerText()).replace(/\s+/g, ' ').trim();
    const buttons = (await toast.locator('.monaco-button').allTextContents()).map((t) => t.trim()).filter(Boolean);
    if (click) {
      await toast.locator('.monaco-button', { hasText: click }).first().click();
    }
    return { text, buttons };
  },

  /** Waits for a suggestion's diff showing `expect`; saves a screenshot as `shot`. */
  async diffShown({ expect, shot }) {
    await page.locator('.tab.active[aria-label*="(Tether"]').waitFor();
    await page.locator('.editor-actions [aria-label^="Refine Suggestion"]').first().waitFor({ state: 'visible' });
    // the proposed side of the diff shows this suggestion (not the one it replaced)
    await page.waitForFunction(
      (want) =>
        [...document.querySelectorAll('.editor-group-container.active .modified-in-monaco-diff-editor .view-line')]
          .map((l) => l.textContent.replace(/\u00a0/g, ' '))
          .some((t) => t.includes(want)),
      expect,
    );
    await waitPending(1);
    // CodeLenses are resolved after the diff opens; read them once the first one is drawn
    await page.locator('.codelens-decoration a', { hasText: 'Accept' }).first().waitFor({ state: 'visible' });
    const file = path.join(shots, shot);
    await page.screenshot({ path: file });
    const titleActions = await page.locator('.editor-actions .action-label').evaluateAll((as) =>
      as.map((a) => a.getAttribute('aria-label') || '').filter(Boolean),
    );
    const lenses = (await page.locator('.codelens-decoration a').allTextContents()).map((t) => t.trim());
    return { screenshot: file, titleActions, lenses, tab: await page.locator('.tab.active').getAttribute('aria-label') };
  },

  /** "Tether: Refine Suggestion…" on the open diff, in the user's `words`. */
  async refine({ words }) {
    await runCommand('Tether: Refine Suggestion');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    const prompt = (await page.locator('.quick-input-widget').innerText()).replace(/\s+/g, ' ').trim();
    await input.fill(words);
    await page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden' });
    return { prompt };
  },

  async regenerate() {
    await runCommand('Tether: Regenerate Suggestion');
    return {};
  },

  /**
   * The side panel in a 300 px side bar under a colour theme: fits without sideways
   * scrolling; a screenshot of the side bar is saved as `shot`.
   */
  async panelShot({ theme, dark, tab, shot }) {
    // pick the colour theme with the keyboard, as a person would, and wait until it shows
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('>Preferences: Color Theme');
    await page.locator('.quick-input-list .monaco-list-row[aria-label^="Preferences: Color Theme"]').first().waitFor();
    const wanted = page.locator('.quick-input-list .monaco-list-row.focused[aria-label^="Preferences: Color Theme"]');
    for (let i = 0; i < 8 && (await wanted.count()) === 0; i++) {
      await page.keyboard.press('ArrowDown'); // past "Browse Color Themes in Marketplace"
    }
    await wanted.waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-list .monaco-list-row[aria-label*="Modern"]').first().waitFor();
    await input.fill(theme);
    await page.locator(`.quick-input-list .monaco-list-row.focused[aria-label^="${theme}"]`).waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    await page.locator(dark ? '.monaco-workbench.vs-dark' : '.monaco-workbench.vs').waitFor();
    await page.locator(STATUS).click();
    const frame = panelFrame();
    await frame.locator(`#tab-${tab}`).click();
    await frame.locator(`#tab-${tab}[aria-selected="true"]`).waitFor();
    const list = tab === 'history' ? '#history-list > li' : '#classes-list > li';
    await frame.locator(list).first().waitFor();
    // drag the side bar's edge so it is 300 px wide
    const bar = page.locator('.part.sidebar');
    let box = await bar.boundingBox();
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width + 1, y);
    await page.mouse.down();
    await page.mouse.move(box.x + 300, y, { steps: 4 });
    await page.mouse.up();
    box = await bar.boundingBox();
    if (tab === 'history') {
      const first = frame.locator('#history-list > li').first();
      if ((await first.locator('.summary').getAttribute('aria-expanded')) !== 'true') {
        await first.locator('.summary').click();
      }
      await first.locator('.details pre.diff .dl').first().waitFor();
    }
    const fit = await frame.locator('body').evaluate((b) => ({
      scroll: b.ownerDocument.documentElement.scrollWidth,
      width: b.ownerDocument.documentElement.clientWidth,
      tabColor: getComputedStyle(b.ownerDocument.querySelector('[role="tab"][aria-selected="true"]')).color,
      background: getComputedStyle(b).backgroundColor,
    }));
    const file = path.join(shots, shot);
    await bar.screenshot({ path: file });
    return { ...fit, sidebarWidth: Math.round(box.width), screenshot: file, items: await frame.locator(list).count() };
  },

  /** "Tether: Restart Server", done when the extension says the new server is running. */
  async restartServer() {
    await runCommand('Tether: Restart Server');
    await page.locator('.statusbar', { hasText: 'Tether server restarted' }).first().waitFor({ state: 'visible' });
    await page.locator(`${STATUS} .codicon-sparkle`).waitFor();
    return {};
  },

  /**
   * Sets the text setting `key` (one dot: `tether.model`) to `value` in the Settings editor,
   * as a person would, and waits until the workbench has written it to the settings `file`.
   */
  async setSetting({ key, value, file }) {
    await runCommand('Preferences: Open User Settings');
    const search = page.locator('.settings-editor .suggest-input-container .monaco-editor textarea');
    await search.waitFor({ state: 'visible' });
    await search.focus();
    await page.keyboard.type(key);
    // the row titled like the key ("tether.model": "Tether: Model"), once the search shows it
    const cap = (w) => w.charAt(0).toUpperCase() + w.slice(1);
    const [section, name] = key.split('.');
    const title = `${cap(section)}: ${cap(name)}`;
    const row = page.locator('.settings-editor .setting-item-text', { hasText: title });
    const input = row.locator('input').first();
    await input.waitFor({ state: 'visible' });
    await input.fill(value);
    await input.press('Enter');
    const written = () => {
      try {
        return JSON.parse(fs.readFileSync(file, 'utf8'))[key] === value;
      } catch {
        return false; // being written
      }
    };
    // woken by the file system, not by a timer
    await new Promise((resolve, reject) => {
      const done = (error) => {
        clearTimeout(timer);
        watcher.close();
        if (error) reject(error);
        else resolve();
      };
      const watcher = fs.watch(path.dirname(file), () => written() && done());
      const timer = setTimeout(() => done(new Error(`${key} was not written to ${file}`)), WAIT);
      if (written()) done();
    });
    await runCommand('View: Close Editor');
    return {};
  },

  /** The walkthrough called `title`, opened from the command palette: its text. */
  async walkthrough({ title, shot }) {
    await runCommand('Welcome: Open Walkthrough');
    await pickQuick(title);
    const container = page.locator('.gettingStartedContainer');
    await container.locator('.getting-started-step').first().waitFor({ state: 'visible' });
    const file = path.join(shots, shot);
    await page.screenshot({ path: file });
    return { text: (await container.innerText()).replace(/\s+/g, ' ').trim(), screenshot: file };
  },

  async close() {
    if (browser) await browser.close();
    browser = undefined;
    return {};
  },
};

async function main() {
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const { step, args } = JSON.parse(line);
    if (args && args.out) shots = args.out;
    const reply = { step };
    try {
      if (!steps[step]) throw new Error(`unknown step ${step}`);
      reply.result = await steps[step](args || {});
      reply.ok = true;
    } catch (error) {
      reply.ok = false;
      reply.error = error && error.stack ? error.stack : String(error);
      if (page) {
        const file = path.join(shots, `failed-${step}.png`);
        try {
          fs.mkdirSync(shots, { recursive: true });
          await page.screenshot({ path: file });
          reply.screenshot = file;
        } catch (e) {
          log('no screenshot:', e.message);
        }
      }
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
    if (step === 'close') break;
  }
  if (browser) await browser.close();
}

main().catch((error) => {
  log(error.stack || String(error));
  process.exit(1);
});
