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

<section id="panel-history" role="tabpanel" aria-labelledby="tab-history"${hidden('history')}>
  <form id="history-filters" class="filters" role="search" aria-label="Filter decisions">
    <div class="field grow">
      <label for="history-search">Search</label>
      <input id="history-search" type="search" placeholder="path, class, reason, text…" autocomplete="off">
    </div>
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
  </form>
  <div class="table-wrap">
    <table id="history-table" aria-label="Decision history" aria-describedby="history-hint">
      <thead><tr>
        <th scope="col">Time</th><th scope="col">File</th><th scope="col">Class</th><th scope="col">Outcome</th>
        <th scope="col">Decided by</th><th scope="col">Reason</th><th scope="col">Model / adapter</th>
      </tr></thead>
      <tbody id="history-rows"></tbody>
    </table>
  </div>
  <p id="history-hint" class="hint">Enter or click on a row opens its diff; ↑ and ↓ move between rows.</p>
  <p id="history-empty" class="empty" hidden>No decisions match.</p>
  <nav class="pager" aria-label="History pages">
    <button type="button" id="history-prev" aria-label="Previous page">‹ Previous</button>
    <span id="history-page" aria-live="polite"></span>
    <button type="button" id="history-next" aria-label="Next page">Next ›</button>
  </nav>
</section>

<section id="panel-profile" role="tabpanel" aria-labelledby="tab-profile"${hidden('profile')}>
  <h2 id="classes-heading">Decision classes</h2>
  <div class="table-wrap">
    <table id="classes-table" aria-labelledby="classes-heading">
      <thead><tr>
        <th scope="col">Class</th><th scope="col">Approval (mean, interval)</th><th scope="col">n</th>
        <th scope="col">Policy</th><th scope="col">Reason</th>
      </tr></thead>
      <tbody id="classes-rows"></tbody>
    </table>
  </div>
  <p id="classes-empty" class="empty" hidden>No decisions yet: accept or reject a few suggestions.</p>

  <h2 id="adapters-heading">Adapters</h2>
  <div class="table-wrap">
    <table id="adapters-table" aria-labelledby="adapters-heading">
      <thead><tr>
        <th scope="col">Version</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Eval metrics</th>
      </tr></thead>
      <tbody id="adapters-rows"></tbody>
    </table>
  </div>
  <p id="adapters-empty" class="empty" hidden>No adapter trained yet: the base model answers.</p>

  <h2 id="training-heading">Training</h2>
  <div id="training" class="training" aria-labelledby="training-heading">
    <progress id="training-progress" max="100" value="0" aria-label="Training progress"></progress>
    <span id="training-state" aria-live="polite">idle</span>
    <button type="button" id="train-now">Train now</button>
    <button type="button" id="cancel-training" hidden>Cancel</button>
  </div>
</section>
<script nonce="${o.nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}
