/**
 * The side panel's HTML shell. Everything dynamic is built by `media/panel.js` from
 * messages, so the shell is static apart from the CSP source and the per-load nonce; it is
 * rendered without `vscode` so the webview can be tested alone in a browser.
 */

export interface PanelHtmlOptions {
  /** `webview.cspSource`: where the panel's script and stylesheet may come from. */
  cspSource: string;
  /** A fresh random value per render; only scripts carrying it run. */
  nonce: string;
  scriptUri: string;
  styleUri: string;
  /** Tab shown first. */
  tab?: 'history' | 'profile';
}

const OUTCOMES = [
  'accepted',
  'partly_accepted',
  'rejected',
  'corrected',
  'auto_applied',
  'suppressed',
  'expired',
  'rewritten',
  'proposed',
  'pinned',
  'adapter_promoted',
  'adapter_refused',
  'adapter_rollback',
  'published',
  'production',
  'reviewed',
];

function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function makeNonce(random: () => number = Math.random): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 32; i++) {
    out += chars[Math.floor(random() * chars.length)];
  }
  return out;
}

export function renderPanelHtml(o: PanelHtmlOptions): string {
  const tab = o.tab ?? 'history';
  const csp = [
    "default-src 'none'",
    `style-src ${o.cspSource}`,
    `img-src ${o.cspSource} data:`,
    `font-src ${o.cspSource}`,
    `script-src 'nonce-${o.nonce}'`,
  ].join('; ');
  const outcomeOptions = OUTCOMES.map((x) => `<option value="${x}">${x.replace(/_/g, ' ')}</option>`).join('');
  const selected = (t: string) => (t === tab ? 'true' : 'false');
  const hidden = (t: string) => (t === tab ? '' : ' hidden');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}">
<title>Tether</title>
</head>
<body data-tab="${tab}">
<div class="tabs" role="tablist" aria-label="Tether views">
  <button type="button" role="tab" id="tab-history" aria-controls="panel-history" aria-selected="${selected('history')}" tabindex="${tab === 'history' ? '0' : '-1'}">History</button>
  <button type="button" role="tab" id="tab-profile" aria-controls="panel-profile" aria-selected="${selected('profile')}" tabindex="${tab === 'profile' ? '0' : '-1'}">Profile</button>
</div>
<p id="error" class="error" role="alert" hidden></p>

<section id="welcome" class="welcome" aria-labelledby="welcome-heading" hidden>
  <h2 id="welcome-heading">Welcome to Tether</h2>
  <p id="welcome-problem" class="problem" hidden></p>
  <ol id="welcome-steps" class="steps"></ol>
  <p id="welcome-model" class="hint"></p>
  <div class="actions" id="welcome-actions"></div>
</section>

<section id="panel-history" role="tabpanel" aria-labelledby="tab-history"${hidden('history')}>
  <section id="production" class="production" aria-labelledby="production-heading" hidden>
    <h2 id="production-heading">From production <span id="production-count" class="count" hidden></span></h2>
    <p class="hint">Decisions made through <code>tether serve</code>. They teach Tether only once you review them.</p>
    <ul id="production-list" class="decisions" aria-labelledby="production-heading"></ul>
    <p id="production-status" class="hint" aria-live="polite"></p>
  </section>
  <form id="history-filters" class="toolbar" role="search" aria-label="Filter decisions">
    <label for="history-search" class="sr-only">Search decisions</label>
    <input id="history-search" type="search" placeholder="Search path, class, reason…" autocomplete="off">
    <button type="button" id="filters-toggle" class="secondary icon-button" aria-expanded="false" aria-controls="filter-fields" title="Filters">Filters<span id="filters-count" class="count" hidden></span></button>
  </form>
  <div id="filter-fields" class="filter-fields" hidden>
    <div class="field">
      <label for="history-outcome">Outcome</label>
      <select id="history-outcome"><option value="">any</option>${outcomeOptions}</select>
    </div>
    <div class="field">
      <label for="history-actor">Decided by</label>
      <select id="history-actor"><option value="">anyone</option><option value="user">user</option><option value="policy">policy</option><option value="system">system</option></select>
    </div>
    <div class="field">
      <label for="history-class">Class</label>
      <input id="history-class" type="text" placeholder="class key" autocomplete="off">
    </div>
  </div>
  <ul id="history-list" class="decisions" aria-label="Decision history" aria-describedby="history-hint"></ul>
  <p id="history-hint" class="hint">Click a decision (or press Enter) for its details and diff.</p>
  <p id="history-empty" class="empty" hidden>No decisions match.</p>
  <nav class="pager" aria-label="History pages">
    <button type="button" id="history-prev" class="secondary" aria-label="Previous page">‹</button>
    <span id="history-page" aria-live="polite"></span>
    <button type="button" id="history-next" class="secondary" aria-label="Next page">›</button>
  </nav>
</section>

<section id="panel-profile" role="tabpanel" aria-labelledby="tab-profile"${hidden('profile')}>
  <h2 id="classes-heading">How Tether decides</h2>
  <ul id="classes-list" class="classes" aria-labelledby="classes-heading"></ul>
  <p id="classes-empty" class="empty" hidden>No decisions yet: accept or reject a few suggestions.</p>

  <h2 id="adapters-heading">Adapters</h2>
  <ul id="adapters-list" class="adapters" aria-labelledby="adapters-heading"></ul>
  <p id="adapters-empty" class="empty" hidden>No adapter trained yet: the base model answers.</p>

  <h2 id="student-heading">Student model</h2>
  <div id="student" class="student" aria-labelledby="student-heading">
    <p id="student-current" class="sentence"></p>
    <div class="actions">
      <button type="button" id="choose-student" class="secondary" title="The embedded model, or what Ollama, llama.cpp's server or vLLM serve on this machine">Choose…</button>
    </div>
  </div>

  <h2 id="living-heading">Production and savings</h2>
  <div id="living" class="living" aria-labelledby="living-heading">
    <p id="living-production" class="sentence"></p>
    <p id="living-savings" class="sentence"></p>
  </div>

  <h2 id="training-heading">Training</h2>
  <div id="training" class="training" aria-labelledby="training-heading">
    <div class="training-line">
      <span id="training-phase" class="phase">idle</span>
      <span id="training-step" class="step"></span>
    </div>
    <progress id="training-progress" max="100" value="0" aria-label="Training progress"></progress>
    <p id="training-state" class="hint" aria-live="polite"></p>
    <div class="actions">
      <button type="button" id="train-now">Train now</button>
      <button type="button" id="cancel-training" class="secondary" hidden>Cancel</button>
    </div>
  </div>
</section>
<script nonce="${o.nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}
