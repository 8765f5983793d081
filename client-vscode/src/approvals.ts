/**
 * How a verdict reaches the server, and the server's own prompts and edits reach the user.
 *
 * - accept / reject: the contract's `tether.accept` and `tether.reject`; reject always asks
 *   for an optional reason (the reason is training signal; Escape cancels the reject).
 * - the server's quick fixes run the same commands; the executeCommand middleware adds the
 *   reason prompt to them too, and opens the diff for "show diff" style commands.
 * - `workspace/applyEdit`: edits the user accepted here land at once; others can be shown as
 *   a diff and confirmed first (setting `tether.approvals.confirmServerEdits`).
 * - `window/showMessageRequest`: the policy's Approve / Reject / Always ask / Explain prompt,
 *   as a modal dialog for risky actions.
 */

import * as vscode from 'vscode';
import { withAnswerProgress } from './answerProgress';
import { showError } from './errors';
import type {
  ApplyWorkspaceEditParams,
  ApplyWorkspaceEditRequest,
  ApplyWorkspaceEditResult,
  Middleware,
  ResponseError,
} from 'vscode-languageclient/node';
import type { PendingSuggestions } from './pending';
import { safeOrder, splitMessage, wantsModal } from './present';
import { Commands, commandPayload, shownIdsOf } from './protocol';
import type { TetherServer } from './server';
import { applyTextEdits } from './text';

export const PREVIEW_SCHEME = 'tether-edit';

/** `next` of the applyEdit middleware wants a token; the client never cancels these. */
const neverCancelled = new vscode.CancellationTokenSource().token;

type ApplyEditNext = ApplyWorkspaceEditRequest.HandlerSignature;

/** Server commands that mean "show me the diff of this proposal". */
const SHOW_DIFF = /^tether\.(showDiff|diff|review|show)$/i;
/** Commands the model answers: their progress shows the answer while it is written. */
const ANSWERED = new Set<string>([Commands.propose, Commands.ask, Commands.regenerate, Commands.refine]);

export class Approvals implements vscode.Disposable {
  /** Documents with an accepted proposal whose `workspace/applyEdit` is on its way. */
  private readonly expected = new Map<string, number>();
  private readonly previews = new Map<string, string>();
  private readonly previewEmitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly disposables: vscode.Disposable[] = [this.previewEmitter];
  /** Set by the diff review once it exists (they need each other). */
  openReview: (proposalId: string) => Promise<void> = async () => undefined;

  constructor(
    private readonly server: () => TetherServer,
    private readonly pending: PendingSuggestions,
  ) {
    const previews = this.previews;
    const emitter = this.previewEmitter;
    this.disposables.push(
      vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, {
        onDidChange: emitter.event,
        provideTextDocumentContent: (uri) => previews.get(uri.toString()) ?? '',
      }),
    );
  }

  private expect(uri: string | undefined): void {
    if (uri) {
      this.expected.set(uri, (this.expected.get(uri) ?? 0) + 1);
    }
  }

  private unexpect(uri: string | undefined): void {
    if (!uri) {
      return;
    }
    const n = (this.expected.get(uri) ?? 0) - 1;
    if (n > 0) {
      this.expected.set(uri, n);
    } else {
      this.expected.delete(uri);
    }
  }

  /** Accept (some hunks of) a proposal the user has seen; true when the server took it. */
  async accept(proposalId: string, hunks?: number[], documentUri?: string, reason?: string): Promise<boolean> {
    const uri = documentUri ?? this.pending.get(proposalId)?.uri.toString();
    this.expect(uri);
    try {
      const args: Record<string, unknown> = { proposalId };
      if (hunks !== undefined) {
        args.hunks = hunks;
      }
      if (reason?.trim()) {
        args.reason = reason.trim(); // why the other hunks were rejected
      }
      const result = await this.server().command(Commands.accept, args);
      return acceptedOk(result);
    } catch (error) {
      void showError(error, { output: this.server().output });
      return false;
    } finally {
      this.unexpect(uri);
    }
  }

  /** Asks for an optional reason; undefined when the user pressed Escape. */
  async askReason(title = 'Reject Tether suggestion'): Promise<string | undefined> {
    return vscode.window.showInputBox({
      title,
      prompt: 'Why? Optional: your reason teaches Tether. Enter to reject, Escape to cancel.',
      placeHolder: 'e.g. changes behaviour, wrong style, not needed here',
      ignoreFocusOut: true,
    });
  }

  /** Reject a proposal, asking for the reason first; false when cancelled or refused. */
  async reject(proposalId: string, reason?: string): Promise<boolean> {
    const why = reason ?? (await this.askReason());
    if (why === undefined) {
      return false;
    }
    try {
      const args: Record<string, unknown> = { proposalId };
      if (why.trim()) {
        args.reason = why.trim();
      }
      await this.server().command(Commands.reject, args);
      return true;
    } catch (error) {
      void showError(error, { output: this.server().output });
      return false;
    }
  }

  /** Middleware for the language client: commands, applyEdit, diagnostics. */
  middleware(): Middleware {
    return {
      executeCommand: async (command, args, next) => {
        try {
          return await this.executeCommand(command, args, next);
        } catch (error) {
          // a code action's command failed: the server's words and actions, no prefix
          const retry = () => this.server().command(command, commandPayload(args));
          void showError(error, { retry, output: this.server().output, restart: () => this.server().restart() });
          return undefined;
        }
      },
      workspace: {
        handleApplyEdit: (params, next) => this.handleApplyEdit(params, next),
      },
      handleDiagnostics: (uri, diagnostics, next) => {
        this.pending.update(uri, diagnostics);
        next(uri, diagnostics);
      },
      provideCodeActions: async (document, range, context, token, next) => {
        const actions = (await next(document, range, context, token)) ?? [];
        return [...actions, ...this.reviewActions(context, actions)];
      },
    };
  }

  private async executeCommand(
    command: string,
    args: unknown[],
    next: (command: string, args: unknown[]) => unknown,
  ): Promise<unknown> {
    const payload = commandPayload(args);
    const proposalId = typeof payload.proposalId === 'string' ? payload.proposalId : undefined;
    if (SHOW_DIFF.test(command) && proposalId) {
      await this.openReview(proposalId);
      return undefined;
    }
    if (command === Commands.reject && proposalId && typeof payload.reason !== 'string') {
      const reason = await this.askReason();
      if (reason === undefined) {
        return undefined;
      }
      // asked here, so the server must not ask again with its short list
      const withReason: Record<string, unknown> = { ...payload, askReason: false };
      if (reason.trim()) {
        withReason.reason = reason.trim();
      }
      return next(command, [withReason, ...args.slice(1)]);
    }
    if (command === Commands.accept && proposalId) {
      const uri = this.pending.get(proposalId)?.uri.toString();
      this.expect(uri);
      try {
        return await next(command, args);
      } finally {
        this.unexpect(uri);
      }
    }
    if (command === Commands.refine && proposalId && typeof payload.instruction !== 'string') {
      // the code action carries no words: ask for them here (LSP cannot prompt for text)
      const words = await vscode.window.showInputBox({
        title: 'Refine Tether suggestion',
        prompt: 'What should change? Your words teach Tether, and it answers again.',
        placeHolder: 'e.g. keep the original names, shorter',
        ignoreFocusOut: true,
      });
      if (!words?.trim()) {
        return undefined;
      }
      return this.offered(command, await this.answered(command, { ...payload, instruction: words.trim() }));
    }
    if (ANSWERED.has(command)) {
      return this.offered(command, await this.answered(command, payload));
    }
    return this.offered(command, await next(command, args));
  }

  /**
   * A command the model answers, sent with a token of the client's own: its notification
   * shows the answer while it is written and has Cancel (the language client would only
   * spin in the status bar, showing the multi-line answer there).
   */
  private answered(command: string, payload: Record<string, unknown>): Promise<unknown> {
    const words = typeof payload.instruction === 'string' ? payload.instruction : '';
    const task = typeof payload.task === 'string' ? payload.task : '';
    const title = words
      ? `Tether: ${words.length > 48 ? `${words.slice(0, 47)}…` : words}`
      : command === Commands.regenerate
        ? 'Tether: regenerating'
        : `Tether: ${task ? task.charAt(0).toUpperCase() + task.slice(1) : 'asking'}`;
    return withAnswerProgress(this.server(), title, (options) => this.server().command(command, payload, options));
  }

  /** After a command that made proposals, offer the first one's diff. */
  private offered(command: string, result: unknown): unknown {
    if (command === Commands.propose || command === Commands.regenerate || command === Commands.refine) {
      this.offerReview(shownIdsOf(result));
    }
    return result;
  }

  /** A "Review in diff" quick fix next to each Tether diagnostic the server's actions lack one for. */
  private reviewActions(
    context: vscode.CodeActionContext,
    existing: readonly (vscode.Command | vscode.CodeAction)[],
  ): vscode.CodeAction[] {
    const titles = existing.map((a) => a.title.toLowerCase());
    if (titles.some((t) => t.includes('diff'))) {
      return [];
    }
    const out: vscode.CodeAction[] = [];
    for (const p of this.pending.all()) {
      if (!context.diagnostics.some((d) => d.range.isEqual(p.range) && d.message === p.message)) {
        continue;
      }
      const action = new vscode.CodeAction('Tether: Review in diff…', vscode.CodeActionKind.QuickFix);
      action.command = { command: 'tether.ui.review', title: 'Review in diff', arguments: [p.proposalId] };
      out.push(action);
    }
    return out;
  }

  /** After a proposal arrives from a code action, offer its diff without blocking anything. */
  private offerReview(ids: string[]): void {
    if (ids.length !== 1) {
      return;
    }
    const [id] = ids;
    void vscode.window
      .showInformationMessage('Tether has a suggestion.', 'Review', 'Accept', 'Reject')
      .then((choice) => {
        if (choice === 'Review') {
          return this.openReview(id);
        }
        if (choice === 'Accept') {
          return this.accept(id).then(() => undefined);
        }
        if (choice === 'Reject') {
          return this.reject(id).then(() => undefined);
        }
        return undefined;
      });
  }

  private async handleApplyEdit(
    params: ApplyWorkspaceEditParams,
    next: ApplyEditNext,
  ): Promise<ApplyWorkspaceEditResult | ResponseError<void>> {
    const uris = editedUris(params);
    const wasAccepted = uris.length > 0 && uris.every((u) => (this.expected.get(u) ?? 0) > 0);
    const confirm = vscode.workspace.getConfiguration('tether').get<boolean>('approvals.confirmServerEdits', false);
    if (wasAccepted || !confirm) {
      return next(params, neverCancelled);
    }
    const approved = await this.confirmEdit(params);
    if (!approved) {
      return { applied: false, failureReason: 'The user declined the edit.' };
    }
    return next(params, neverCancelled);
  }

  /** Shows what an edit would do, as a diff, and asks before it lands. */
  private async confirmEdit(params: ApplyWorkspaceEditParams): Promise<boolean> {
    const shown: vscode.Uri[] = [];
    try {
      for (const [uri, edits] of textEditsOf(params)) {
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
        let after: string;
        try {
          after = applyTextEdits(doc.getText(), edits);
        } catch {
          continue;
        }
        const preview = vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: doc.uri.path, query: `n=${Date.now()}` });
        this.previews.set(preview.toString(), after);
        shown.push(preview);
        await vscode.commands.executeCommand(
          'vscode.diff',
          doc.uri,
          preview,
          `${vscode.workspace.asRelativePath(doc.uri)} ↔ Tether edit`,
          { preview: true },
        );
      }
      const label = params.label ? `: ${params.label}` : '';
      const choice = await vscode.window.showInformationMessage(
        `Apply this Tether edit${label}?`,
        { modal: true, detail: 'The diff shows what will change.' },
        'Apply',
      );
      return choice === 'Apply';
    } finally {
      await closeTabsShowing(shown);
      for (const u of shown) {
        this.previews.delete(u.toString());
      }
    }
  }

  /** `window/showMessageRequest`: modal for the policy's risky approval prompts. */
  async showMessageRequest(params: {
    type: number;
    message: string;
    actions?: { title: string }[];
  }): Promise<{ title: string } | null> {
    const actions = safeOrder(params.actions ?? []);
    const modalForRisky = vscode.workspace.getConfiguration('tether').get<boolean>('approvals.modalForRisky', true);
    const show =
      params.type === 1
        ? vscode.window.showErrorMessage
        : params.type === 2
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    if (wantsModal(params, modalForRisky)) {
      const { title, detail } = splitMessage(params.message);
      const choice = await show(title, { modal: true, detail }, ...actions);
      return choice ?? null;
    }
    const choice = await show(params.message, ...actions);
    return choice ?? null;
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}

function acceptedOk(result: unknown): boolean {
  if (result && typeof result === 'object') {
    const r = result as Record<string, unknown>;
    if (r.applied === false || r.ok === false) {
      return false;
    }
  }
  return result !== false;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  if (error && typeof error === 'object' && 'message' in error) {
    return String((error as { message: unknown }).message);
  }
  return String(error);
}

function editedUris(params: ApplyWorkspaceEditParams): string[] {
  return [...textEditsOf(params).keys()];
}

type Edits = { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[];

function textEditsOf(params: ApplyWorkspaceEditParams): Map<string, Edits> {
  const out = new Map<string, Edits>();
  const edit = params.edit;
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) {
    out.set(normalizeUri(uri), [...(out.get(normalizeUri(uri)) ?? []), ...edits]);
  }
  for (const change of edit.documentChanges ?? []) {
    if ('textDocument' in change && 'edits' in change) {
      const uri = normalizeUri(change.textDocument.uri);
      const plain = change.edits.filter((e): e is Edits[number] => 'newText' in e && 'range' in e);
      out.set(uri, [...(out.get(uri) ?? []), ...plain]);
    }
  }
  return out;
}

/** Same form as `vscode.Uri.toString()`, so server URIs and client URIs compare equal. */
function normalizeUri(uri: string): string {
  try {
    return vscode.Uri.parse(uri).toString();
  } catch {
    return uri;
  }
}

export async function closeTabsShowing(uris: readonly vscode.Uri[]): Promise<void> {
  if (uris.length === 0) {
    return;
  }
  const wanted = new Set(uris.map((u) => u.toString()));
  const tabs = vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => {
      const input = t.input;
      if (input instanceof vscode.TabInputTextDiff) {
        return wanted.has(input.modified.toString());
      }
      if (input instanceof vscode.TabInputText) {
        return wanted.has(input.uri.toString());
      }
      return false;
    });
  if (tabs.length) {
    await vscode.window.tabGroups.close(tabs, true);
  }
}
