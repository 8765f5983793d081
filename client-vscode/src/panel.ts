/**
 * The "Tether" side panel: a webview view with the decision history and the profile.
 * The webview renders; this host answers its queries through the server and forwards the
 * server's live notifications to it.
 *
 * Living tether (issue 15): decisions an API client made through `tether serve` come back
 * as production decisions awaiting review. The History tab lists them above the log with
 * Confirm / Overturn / Discard (`tether.reviewProduction`); only reviewed ones teach.
 */

import * as os from 'node:os';
import * as vscode from 'vscode';
import { userMessage } from './messages';
import { modelHint } from './present';
import type { ProductionItemView, StudentChoiceView } from './generated/contract';
import { Commands } from './protocol';
import type { DecisionView, HistoryPageView, HistoryQuery, ProposalView, TrainingView } from './protocol';
import type { TetherServer } from './server';
import { makeNonce, renderPanelHtml } from './webviewHtml';

export const PANEL_VIEW_ID = 'tether.panel';

type FromWebview =
  | { type: 'ready' }
  | { type: 'history'; query: HistoryQuery }
  | { type: 'profile' }
  | { type: 'open'; decision: DecisionView }
  | { type: 'diff'; decision: DecisionView }
  | { type: 'command'; command: string }
  | { type: 'trainNow' }
  | { type: 'cancelTraining' }
  | { type: 'production' }
  | { type: 'openProduction'; item: ProductionItemView }
  | { type: 'review'; seq: number; action: ReviewAction; verdict?: string }
  | { type: 'chooseStudent' };

/** What a review does with an API client's verdict (the server's words). */
export type ReviewAction = 'confirm' | 'overturn' | 'discard';

export interface PanelActions {
  openDecision(decision: DecisionView): Promise<void>;
  /** Before and after of a proposal, read-only (a production decision is not the editor's to accept). */
  openDecided(proposal: ProposalView, decision: DecisionView | null): Promise<void>;
  trainNow(): Promise<void>;
  cancelTraining(): Promise<void>;
}

/** Welcome actions the webview may ask for, and the VS Code commands they run. */
const WELCOME_COMMANDS: Record<string, [string, ...unknown[]]> = {
  ask: ['tether.ui.ask'],
  openSettings: ['workbench.action.openSettings', 'tether.'],
  restart: ['tether.ui.restart'],
  showLog: ['tether.ui.showOutput'],
};

export class TetherPanel implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private pendingTab: 'history' | 'profile' | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Proposals already looked up for history rows (line, hunk count, rationale). */
  private readonly proposals = new Map<string, ProposalView>();
  private firstRun = false;

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
        void this.sendServer();
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
    // decisions made through `tether serve` reach the store from another process (no
    // notification here): look again whenever the panel comes back into view
    view.onDidChangeVisibility(
      () => {
        if (view.visible) {
          this.post({ type: 'decisionRecorded' });
        }
      },
      undefined,
      this.disposables,
    );
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
        void this.sendServer();
        return;
      case 'history':
        try {
          const page = await this.server().history(m.query);
          const firstRun = page.total === 0 && !m.query.search && !m.query.outcome && !m.query.actor && !m.query.classKey;
          if (firstRun !== this.firstRun) {
            this.firstRun = firstRun;
            void this.sendServer();
          }
          this.post({ type: 'history', page: await this.enrich(page) });
        } catch (error) {
          this.post({ type: 'error', message: userMessage(error).text });
        }
        return;
      case 'diff':
        await this.sendDiff(m.decision);
        return;
      case 'command': {
        const run = WELCOME_COMMANDS[m.command];
        if (run) {
          await vscode.commands.executeCommand(...run);
        }
        return;
      }
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
      case 'production':
        await this.sendProduction();
        return;
      case 'openProduction':
        await this.openProduction(m.item);
        return;
      case 'review':
        await this.review(m.seq, m.action, m.verdict);
        return;
      case 'chooseStudent':
        await this.chooseStudent();
        return;
    }
  }

  /**
   * A quick pick of the students this machine can run (the embedded model, what local
   * engines serve, the published agent first); the choice goes into `tether.model`.
   */
  private async chooseStudent(): Promise<void> {
    let offer: { current: string; choices: StudentChoiceView[] };
    try {
      offer = await this.server().students();
    } catch (error) {
      this.post({ type: 'error', message: userMessage(error).text });
      return;
    }
    const items = offer.choices.map((c) => ({
      label: `${c.published ? '$(star-full) ' : ''}${c.label}`,
      description: c.model === offer.current ? `${c.model} (now)` : c.model,
      detail: c.published ? `The agent you published · ${c.detail}` : c.detail,
      choice: c,
    }));
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Tether: student model',
      placeHolder: `Now ${offer.current}. Pick the model that makes the proposals.`,
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!picked) {
      return;
    }
    await vscode.workspace
      .getConfiguration('tether')
      .update('model', picked.choice.model, vscode.ConfigurationTarget.Global);
    this.post({ type: 'student', current: picked.choice.model });
    const env = Object.entries(picked.choice.env ?? {});
    if (env.length) {
      void vscode.window.showInformationMessage(
        `Tether now uses ${picked.choice.model}. Its server reaches the engine through ${env
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}: start VS Code with that in its environment.`,
      );
    }
  }

  /** The production decisions (newest first, pending and reviewed) and their tally. */
  private async sendProduction(): Promise<void> {
    try {
      this.post({ type: 'production', production: await this.server().production() });
    } catch (error) {
      this.post({ type: 'production', error: userMessage(error).text });
    }
  }

  /** Settle one production decision; the panel then shows the new log, tally and profile. */
  private async review(seq: number, action: ReviewAction, verdict?: string): Promise<void> {
    let reason: string | undefined;
    if (action === 'overturn' && verdict === 'accept') {
      // overturning an accept records the user's reject: its reason teaches what to avoid
      reason = await vscode.window.showInputBox({
        title: 'Tether: why reject it?',
        prompt: 'Optional: your reason teaches Tether what you do not want. Escape cancels the review.',
        ignoreFocusOut: true,
      });
      if (reason === undefined) {
        this.post({ type: 'reviewed', seq, action, error: 'Review cancelled: nothing was recorded.' });
        await this.sendProduction();
        return;
      }
    }
    try {
      const result = await this.server().command<{ pending: number; recorded: number[] }>(
        Commands.reviewProduction,
        { seq, action, ...(reason ? { reason } : {}) },
      );
      this.post({ type: 'reviewed', seq, action, pending: result.pending });
    } catch (error) {
      this.post({ type: 'reviewed', seq, action, error: userMessage(error).text });
    }
    await this.sendProduction();
    this.post({ type: 'decisionRecorded' }); // the review's rows: refresh the history and profile
  }

  /** What the API client saw (and, for a correction, what it wrote instead), read-only. */
  private async openProduction(item: ProductionItemView): Promise<void> {
    let proposal: ProposalView;
    try {
      proposal = await this.server().proposal(item.proposalId);
    } catch (error) {
      this.post({ type: 'error', message: userMessage(error).text });
      return;
    }
    const decision: DecisionView = {
      seq: item.seq,
      ts: item.ts,
      outcome: 'production',
      actor: `API client ${item.tokenId ?? ''}`.trim(),
      proposalId: item.proposalId,
      classKey: item.classKey,
      path: item.path,
      uri: null,
      model: null,
      adapterVersion: null,
      reason: item.reason,
      before: null,
      after: item.verdict === 'correct' ? item.text : null,
      hunks: null,
    };
    await this.actions.openDecided(proposal, decision);
  }

  /** A history page with what its rows need from their proposals: line, hunk count, rationale. */
  private async enrich(page: HistoryPageView): Promise<HistoryPageView> {
    const ids = [...new Set(page.items.map((d) => d.proposalId).filter((id): id is string => !!id))];
    await Promise.all(
      ids
        .filter((id) => !this.proposals.has(id))
        .map(async (id) => {
          try {
            this.proposals.set(id, await this.server().proposal(id));
          } catch {
            // an unknown proposal: the row shows what the decision itself has
          }
        }),
    );
    const items = page.items.map((d) => {
      const p = d.proposalId ? this.proposals.get(d.proposalId) : undefined;
      return p
        ? { ...d, line: p.range.start.line + 1, hunksTotal: p.hunks.length, rationale: p.rationale.split('\n')[0] }
        : d;
    });
    return { ...page, items };
  }

  /** The unified diff of a decision's proposal, for its expanded row. */
  private async sendDiff(d: DecisionView): Promise<void> {
    if (!d.proposalId) {
      return;
    }
    try {
      const view = await this.server().proposalDiff(d.proposalId);
      this.post({ type: 'diff', seq: d.seq, diff: view });
    } catch (error) {
      this.post({ type: 'diff', seq: d.seq, error: userMessage(error).text });
    }
  }

  /** The server's state for the welcome: running or not (and why), first run, a model hint. */
  private async sendServer(): Promise<void> {
    const s = this.server();
    let ollama: string[] = [];
    const model = String(s.settingsForServer().model ?? process.env.TETHER_MODEL ?? '');
    if (this.firstRun && (!model || model.startsWith('embedded:'))) {
      ollama = await ollamaModels();
    }
    this.post({
      type: 'server',
      state: s.state,
      problem: s.problem,
      firstRun: this.firstRun,
      modelHint: modelHint(model, os.totalmem() / 2 ** 30, ollama),
    });
  }

  private async sendProfile(): Promise<void> {
    if (!this.view) {
      return;
    }
    const model = String(this.server().settingsForServer().model ?? '');
    this.post({ type: 'student', current: model || process.env.TETHER_MODEL || 'the server default (embedded:smollm2)' });
    try {
      this.post({ type: 'profile', profile: await this.server().profile() });
    } catch (error) {
      this.post({ type: 'error', message: userMessage(error).text });
    }
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}

/** Models Ollama has pulled, when it runs on this machine (loopback only; quick timeout). */
async function ollamaModels(): Promise<string[]> {
  try {
    const res = await fetch('http://127.0.0.1:11434/api/tags', { signal: AbortSignal.timeout(800) });
    const body = (await res.json()) as { models?: { name?: string }[] };
    return (body.models ?? []).map((m) => m.name ?? '').filter(Boolean);
  } catch {
    return [];
  }
}
