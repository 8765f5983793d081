/**
 * The "Tether" side panel: a webview view with the decision history and the profile.
 * The webview renders; this host answers its queries through the server and forwards the
 * server's live notifications to it.
 */

import * as vscode from 'vscode';
import { errorText } from './approvals';
import type { DecisionView, HistoryQuery, TrainingView } from './protocol';
import type { TetherServer } from './server';
import { makeNonce, renderPanelHtml } from './webviewHtml';

export const PANEL_VIEW_ID = 'tether.panel';

type FromWebview =
  | { type: 'ready' }
  | { type: 'history'; query: HistoryQuery }
  | { type: 'profile' }
  | { type: 'open'; decision: DecisionView }
  | { type: 'trainNow' }
  | { type: 'cancelTraining' };

export interface PanelActions {
  openDecision(decision: DecisionView): Promise<void>;
  trainNow(): Promise<void>;
  cancelTraining(): Promise<void>;
}

export class TetherPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private pendingTab: 'history' | 'profile' | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly server: () => TetherServer,
    private readonly actions: PanelActions,
  ) {}

  /** Subscribe to the server's live notifications (call again after a server restart). */
  follow(server: TetherServer): void {
    this.disposables.push(
      server.onDecisionRecorded((d) => this.post({ type: 'decisionRecorded', decision: d })),
      server.onDidChangeState((s) => {
        if (s === 'running') {
          this.post({ type: 'decisionRecorded' }); // refresh what the panel shows
        }
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    view.webview.html = renderPanelHtml({
      cspSource: view.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'panel.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'panel.css')).toString(),
      tab: this.pendingTab ?? 'history',
    });
    view.webview.onDidReceiveMessage((m: FromWebview) => this.received(m), undefined, this.disposables);
    view.onDidDispose(() => {
      this.view = undefined;
    });
  }

  /** Reveal the panel on a tab (used by the commands and the status bar). */
  async show(tab: 'history' | 'profile'): Promise<void> {
    this.pendingTab = tab;
    await vscode.commands.executeCommand(`${PANEL_VIEW_ID}.focus`);
    this.post({ type: 'showTab', tab });
  }

  training(t: TrainingView): void {
    this.post({ type: 'training', training: t });
    if (t.state !== 'running') {
      void this.sendProfile();
    }
  }

  private post(message: Record<string, unknown>): void {
    void this.view?.webview.postMessage(message);
  }

  private async received(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        if (this.pendingTab) {
          this.post({ type: 'showTab', tab: this.pendingTab });
        }
        return;
      case 'history':
        try {
          this.post({ type: 'history', page: await this.server().history(m.query) });
        } catch (error) {
          this.post({ type: 'error', message: `History: ${errorText(error)}` });
        }
        return;
      case 'profile':
        await this.sendProfile();
        return;
      case 'open':
        await this.actions.openDecision(m.decision);
        return;
      case 'trainNow':
        await this.actions.trainNow();
        return;
      case 'cancelTraining':
        await this.actions.cancelTraining();
        return;
    }
  }

  private async sendProfile(): Promise<void> {
    if (!this.view) {
      return;
    }
    try {
      this.post({ type: 'profile', profile: await this.server().profile() });
    } catch (error) {
      this.post({ type: 'error', message: `Profile: ${errorText(error)}` });
    }
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
