/**
 * The diff view of a proposal: current document (left) against the document as it would be
 * after the proposal (right, a virtual `tether-proposal:` document), with Accept / Reject in
 * the editor title and a CodeLens per hunk. Past decisions open read-only as
 * `tether-decision:` diffs (before → after).
 */

import * as vscode from 'vscode';
import { showError } from './errors';
import { type Approvals, closeTabsShowing, errorText } from './approvals';
import type { PendingSuggestions } from './pending';
import type { DecisionView, ProposalView } from './protocol';
import { ReviewState, type Verdict } from './review';
import type { TetherServer } from './server';
import { applyHunks, proposedDocument } from './text';

export const PROPOSAL_SCHEME = 'tether-proposal';
export const DECISION_SCHEME = 'tether-decision';

interface Session {
  proposal: ProposalView;
  state: ReviewState;
  document: vscode.TextDocument;
  uri: vscode.Uri;
  busy: boolean;
}

export class DiffReview implements vscode.Disposable, vscode.TextDocumentContentProvider, vscode.CodeLensProvider {
  private readonly sessions = new Map<string, Session>();
  private readonly decisionTexts = new Map<string, string>();
  private readonly contentEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.contentEmitter.event;
  private readonly lensEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly server: () => TetherServer,
    private readonly approvals: Approvals,
    private readonly pending: PendingSuggestions,
  ) {
    const decisionTexts = this.decisionTexts;
    this.disposables.push(
      this.contentEmitter,
      this.lensEmitter,
      vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, this),
      vscode.workspace.registerTextDocumentContentProvider(DECISION_SCHEME, {
        provideTextDocumentContent: (uri) => decisionTexts.get(uri.toString()) ?? '',
      }),
      vscode.languages.registerCodeLensProvider({ scheme: PROPOSAL_SCHEME }, this),
      vscode.workspace.onDidChangeTextDocument((e) => this.documentChanged(e.document)),
      this.pending.onDidChange(() => this.dropDecided()),
    );
    approvals.openReview = (id) => this.open(id);
  }

  /** The proposal id a `tether-proposal:` URI stands for. */
  static idOf(uri: vscode.Uri): string | undefined {
    if (uri.scheme !== PROPOSAL_SCHEME) {
      return undefined;
    }
    return new URLSearchParams(uri.query).get('id') ?? undefined;
  }

  isOpen(proposalId: string): boolean {
    return this.sessions.has(proposalId);
  }

  /** The proposal shown in the active editor (either side of its diff), if any. */
  activeProposalId(): string | undefined {
    const editor = vscode.window.activeTextEditor;
    const fromEditor = editor ? DiffReview.idOf(editor.document.uri) : undefined;
    if (fromEditor) {
      return fromEditor;
    }
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    if (tab?.input instanceof vscode.TabInputTextDiff) {
      return DiffReview.idOf(tab.input.modified);
    }
    return undefined;
  }

  async open(proposalId: string): Promise<void> {
    let proposal: ProposalView;
    try {
      proposal = await this.server().proposal(proposalId);
    } catch (error) {
      void showError(error);
      return;
    }
    if (proposal.state !== 'pending') {
      await this.openDecided(proposal, null);
      return;
    }
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(proposal.uri));
    const uri = vscode.Uri.from({
      scheme: PROPOSAL_SCHEME,
      path: '/' + (proposal.path || document.uri.path.split('/').pop() || 'proposal'),
      query: new URLSearchParams({ id: proposal.id }).toString(),
    });
    const existing = this.sessions.get(proposal.id);
    const session: Session = existing ?? {
      proposal,
      state: new ReviewState(proposal.hunks.map((h) => h.index)),
      document,
      uri,
      busy: false,
    };
    this.sessions.set(proposal.id, session);
    if (this.pending.get(proposal.id)) {
      this.wasPublished.add(proposal.id);
    }
    const title = `${basename(proposal.path || document.uri.path)}: ${taskTitle(proposal.task)} (Tether, ${session.state.summary()})`;
    await vscode.commands.executeCommand('vscode.diff', document.uri, uri, title, {
      preview: false,
      selection: new vscode.Range(proposal.range.start.line, 0, proposal.range.start.line, 0),
    } satisfies vscode.TextDocumentShowOptions);
    if (proposal.rationale) {
      vscode.window.setStatusBarMessage(`$(sparkle) Tether: ${proposal.rationale.split('\n')[0]}`, 15000);
    }
  }

  /** A decided proposal (from the history): its before and after, read-only. */
  async openDecided(proposal: ProposalView, decision: DecisionView | null): Promise<void> {
    let after = proposal.proposed;
    if (decision?.after) {
      after = decision.after;
    } else if (decision?.hunks && proposal.hunks.length) {
      after = applyHunks(proposal.original, proposal.hunks, new Set(decision.hunks)).text;
    }
    const before = decision?.before ?? proposal.original;
    const path = '/' + (proposal.path || 'proposal');
    const key = decision ? `seq=${decision.seq}` : `id=${proposal.id}`;
    const left = vscode.Uri.from({ scheme: DECISION_SCHEME, path, query: `${key}&side=before` });
    const right = vscode.Uri.from({ scheme: DECISION_SCHEME, path, query: `${key}&side=after` });
    this.decisionTexts.set(left.toString(), before);
    this.decisionTexts.set(right.toString(), after);
    const outcome = decision?.outcome ?? proposal.state;
    const who = decision ? ` by ${decision.actor}` : '';
    await vscode.commands.executeCommand(
      'vscode.diff',
      left,
      right,
      `${basename(proposal.path)}: ${outcome.replace(/_/g, ' ')}${who} (Tether ${taskTitle(proposal.task)})`,
      { preview: true },
    );
  }

  /** Opens what a history row points at: the live review if still pending, else before/after. */
  async openDecision(decision: DecisionView): Promise<void> {
    if (!decision.proposalId) {
      return;
    }
    let proposal: ProposalView;
    try {
      proposal = await this.server().proposal(decision.proposalId);
    } catch (error) {
      void showError(error);
      return;
    }
    if (proposal.state === 'pending') {
      await this.open(proposal.id);
    } else {
      await this.openDecided(proposal, decision);
    }
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const id = DiffReview.idOf(uri);
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) {
      return '';
    }
    const current = session.document.getText();
    try {
      return proposedDocument(current, session.proposal, session.state.shown).text;
    } catch (error) {
      return `Tether could not build this proposal: ${errorText(error)}`;
    }
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const id = DiffReview.idOf(document.uri);
    const session = id ? this.sessions.get(id) : undefined;
    if (!session || !id) {
      return [];
    }
    let lines: Map<number, number>;
    try {
      lines = proposedDocument(session.document.getText(), session.proposal, session.state.shown).hunkLines;
    } catch {
      return [];
    }
    const lenses: vscode.CodeLens[] = [];
    const total = session.state.indices.length;
    for (const index of session.state.indices) {
      const line = Math.min(lines.get(index) ?? 0, Math.max(0, document.lineCount - 1));
      const range = new vscode.Range(line, 0, line, 0);
      const label = total > 1 ? `hunk ${index + 1} of ${total}` : 'change';
      const decision = session.state.decision(index);
      if (decision === 'pending') {
        lenses.push(
          new vscode.CodeLens(range, { title: `$(check) Accept ${label}`, command: 'tether.ui.acceptHunk', arguments: [id, index] }),
          new vscode.CodeLens(range, { title: `$(close) Reject ${label}`, command: 'tether.ui.rejectHunk', arguments: [id, index] }),
        );
      } else {
        lenses.push(
          new vscode.CodeLens(range, { title: `${decision === 'accepted' ? '$(check)' : '$(close)'} ${label} ${decision}`, command: '' }),
          new vscode.CodeLens(range, { title: 'Undo', command: 'tether.ui.undoHunk', arguments: [id, index] }),
        );
      }
    }
    return lenses;
  }

  async decideHunk(proposalId: string, index: number, decision: 'accepted' | 'rejected'): Promise<void> {
    const session = this.sessions.get(proposalId);
    if (!session) {
      await this.open(proposalId);
      return;
    }
    let reason: string | undefined;
    if (decision === 'rejected') {
      // a rejected hunk can carry a reason too (training signal); Escape keeps it undecided
      reason = await this.approvals.askReason(
        session.state.indices.length > 1 ? `Reject hunk ${index + 1} of ${session.state.indices.length}` : 'Reject this change',
      );
      if (reason === undefined) {
        return;
      }
    }
    session.state.decide(index, decision, reason);
    const verdict = session.state.settled();
    if (verdict?.kind === 'reject' && verdict.reason === undefined) {
      verdict.reason = ''; // every hunk was rejected here, each asked for its reason already
    }
    if (verdict) {
      const done = await this.finish(session, verdict);
      if (!done) {
        session.state.undo(index);
      }
    }
    this.refresh(session);
  }

  undoHunk(proposalId: string, index: number): void {
    const session = this.sessions.get(proposalId);
    if (session) {
      session.state.undo(index);
      this.refresh(session);
    }
  }

  /** Title-bar Accept: every hunk not rejected. */
  async acceptOpen(proposalId: string): Promise<boolean> {
    const session = this.sessions.get(proposalId);
    if (!session) {
      return this.approvals.accept(proposalId);
    }
    return this.finish(session, session.state.acceptRest());
  }

  /** Title-bar Reject: the whole proposal. */
  async rejectOpen(proposalId: string): Promise<boolean> {
    const session = this.sessions.get(proposalId);
    if (!session) {
      return this.approvals.reject(proposalId);
    }
    return this.finish(session, { kind: 'reject' });
  }

  private async finish(session: Session, verdict: Verdict): Promise<boolean> {
    if (session.busy) {
      return false;
    }
    session.busy = true;
    try {
      const id = session.proposal.id;
      const ok =
        verdict.kind === 'accept'
          ? await this.approvals.accept(id, verdict.hunks, session.document.uri.toString(), verdict.reason)
          : await this.approvals.reject(id, verdict.reason);
      if (ok) {
        await this.close(id);
      }
      return ok;
    } finally {
      session.busy = false;
    }
  }

  private async close(proposalId: string): Promise<void> {
    const session = this.sessions.get(proposalId);
    if (!session) {
      return;
    }
    this.sessions.delete(proposalId);
    await closeTabsShowing([session.uri]);
  }

  private refresh(session: Session): void {
    this.contentEmitter.fire(session.uri);
    this.lensEmitter.fire();
  }

  private documentChanged(document: vscode.TextDocument): void {
    for (const session of this.sessions.values()) {
      if (session.document.uri.toString() === document.uri.toString()) {
        this.refresh(session);
      }
    }
  }

  /** A proposal decided elsewhere (quick fix, policy, expiry) closes its diff. */
  private dropDecided(): void {
    for (const [id, session] of this.sessions) {
      if (this.pending.get(id)) {
        this.wasPublished.add(id);
      } else if (!session.busy && this.wasPublished.has(id)) {
        this.wasPublished.delete(id);
        void this.close(id);
      }
    }
  }

  /** Sessions whose diagnostic was seen: once it goes, the proposal was decided. */
  private readonly wasPublished = new Set<string>();

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}

function basename(path: string): string {
  return path.split('/').pop() || path;
}

function taskTitle(task: string): string {
  return task ? task.charAt(0).toUpperCase() + task.slice(1).replace(/_/g, ' ') : 'suggestion';
}
