import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeNonce, renderPanelHtml } from '../src/webviewHtml';

describe('renderPanelHtml', () => {
  const html = renderPanelHtml({ cspSource: 'vscode-webview://x', nonce: 'N0nce', scriptUri: 'vscode-webview://x/panel.js', styleUri: 'vscode-webview://x/panel.css' });
  it('locks scripts to the nonce and resources to the webview source', () => {
    const csp = /Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-N0nce'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(html, /<script nonce="N0nce" src="vscode-webview:\/\/x\/panel.js">/);
  });
  it('has no inline handlers or inline scripts', () => {
    assert.doesNotMatch(html, /\son[a-z]+=/i);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
  });
  it('labels every form control', () => {
    for (const id of ['history-search', 'history-outcome', 'history-actor', 'history-class']) {
      assert.match(html, new RegExp(`<label for="${id}"[ >]`));
    }
  });
  it('keeps the filters collapsed behind a button, and lists partial accepts as an outcome', () => {
    assert.match(html, /id="filters-toggle"[^>]*aria-expanded="false"[^>]*aria-controls="filter-fields"/);
    assert.match(html, /id="filter-fields" class="filter-fields" hidden>/);
    assert.match(html, /<option value="partly_accepted">partly accepted<\/option>/);
    assert.doesNotMatch(html, /<table/); // a list, not seven columns in a side bar
  });
  it('opens on the tab asked for', () => {
    const p = renderPanelHtml({ cspSource: 's', nonce: 'n', scriptUri: 'a', styleUri: 'b', tab: 'profile' });
    assert.match(p, /id="tab-profile"[^>]*aria-selected="true"/);
    assert.match(p, /id="panel-history"[^>]* hidden>/);
  });
});

describe('makeNonce', () => {
  it('is 32 alphanumerics and differs between calls', () => {
    const a = makeNonce();
    assert.match(a, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(a, makeNonce());
  });
});
