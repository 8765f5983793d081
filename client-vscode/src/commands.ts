/** The command palette: every `Tether: …` command, resolved against the editor's state. */

import * as vscode from 'vscode';
import { withAnswerProgress } from './answerProgress';
import type { Approvals } from './approvals';
import { DiffReview } from './diffReview';
import { showError } from './errors';
import type { PendingSuggestions } from './pending';
import { verifySummary } from './present';
import { Commands, commandPayload, proposalIdsOf, shownIdsOf } from './protocol';
import type { TetherServer } from './server';
import type { TetherPanel } from './panel';
import type { Training } from './training';

export interface CommandDeps {
  server: () => TetherServer;
  approvals: Approvals;
  review: DiffReview;
  pending: PendingSuggestions;
  panel: TetherPanel;
  training: Training;
  output: vscode.LogOutputChannel;
}

const SPEC_TEMPLATE = `---
# What this agent is for, what it may do, and the lines it never crosses.
# Boundaries are hard rules: no learning, pin or policy overrides them.
name: my-agent
purpose: >
  Keep this project's code clear and correct with small, safe changes.
tasks:
  improve:
    instruction: Make the selected code clearer and more idiomatic without changing what it does.
  document:
    instruction: Add docstrings that say why the code exists and how to use it.
boundaries:
  never_touch: ["migrations/**"]
  max_lines: 80
  always_ask: [improve]
---

Describe the agent in your own words here; this text is part of its purpose.
`;

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const reg = (id: string, fn: (...args: unknown[]) => unknown) => {
    const run = async (...args: unknown[]): Promise<unknown> => {
      try {
        return await fn(...args);
      } catch (error) {
        // the server's words, its actions as buttons; Retry runs the same command again
        void showError(error, {
          retry: () => run(...args),
          rephrase: () => ask(d),
          output: d.output,
          restart: () => d.server().restart(),
        });
        return undefined;
      }
    };
    return vscode.commands.registerCommand(id, run);
  };

  return [
    reg('tether.ui.suggest', () => suggest(d)),
    reg('tether.ui.ask', () => ask(d)),
    reg('tether.ui.regenerate', async (arg) => {
      const id = await target(d, arg);
      if (id) {
        await replace(d, id, Commands.regenerate, {}, 'Tether: regenerating');
      }
    }),
    reg('tether.ui.refine', async (arg) => {
      const id = await target(d, arg);
      const words = id ? await askRefinement() : undefined;
      if (id && words) {
        await replace(d, id, Commands.refine, { instruction: words }, `Tether: ${short(words)}`);
      }
    }),
    reg('tether.ui.trainNow', () => d.training.trainNow()),
    reg('tether.ui.showHistory', () => d.panel.show('history')),
    reg('tether.ui.showProfile', () => d.panel.show('profile')),
    reg('tether.ui.showPanel', () => d.panel.show('history')),
    reg('tether.ui.showOutput', () => d.output.show()),
    reg('tether.ui.reviewPending', () => reviewPending(d)),
    reg('tether.ui.review', async (arg) => {
      const id = await target(d, arg);
      if (id) {
        await d.review.open(id);
      }
    }),
    reg('tether.ui.accept', async (arg) => {
      const id = await target(d, arg);
      if (id) {
        await d.review.acceptOpen(id);
      }
    }),
    reg('tether.ui.reject', async (arg) => {
      const id = await target(d, arg);
      if (id) {
        await d.review.rejectOpen(id);
      }
    }),
    reg('tether.ui.acceptHunk', (id, index) => d.review.decideHunk(String(id), Number(index), 'accepted')),
    reg('tether.ui.rejectHunk', (id, index) => d.review.decideHunk(String(id), Number(index), 'rejected')),
    reg('tether.ui.undoHunk', (id, index) => d.review.undoHunk(String(id), Number(index))),
    reg('tether.ui.verify', () => verify(d)),
    reg('tether.ui.pin', () => pin(d)),
    reg('tether.ui.openSpec', () => openSpec()),
    reg('tether.ui.restart', async () => {
      await d.server().restart();
      void vscode.window.setStatusBarMessage('Tether server restarted', 5000);
    }),
  ];
}

/**
 * Which proposal a command means: an explicit id (CodeLens, quick fix), the diff it was run
 * from (editor title passes the URI), the suggestion under the cursor, else a pick.
 */
async function target(d: CommandDeps, arg: unknown): Promise<string | undefined> {
  if (typeof arg === 'string' && arg) {
    return arg;
  }
  if (arg instanceof vscode.Uri) {
    const id = DiffReview.idOf(arg);
    if (id) {
      return id;
    }
  }
  if (arg && typeof arg === 'object' && typeof (arg as { proposalId?: unknown }).proposalId === 'string') {
    return (arg as { proposalId: string }).proposalId;
  }
  const fromDiff = d.review.activeProposalId();
  if (fromDiff) {
    return fromDiff;
  }
  const atCursor = d.pending.at(vscode.window.activeTextEditor);
  if (atCursor) {
    return atCursor.proposalId;
  }
  return pickPending(d, 'Which suggestion?');
}

async function pickPending(d: CommandDeps, placeHolder: string): Promise<string | undefined> {
  const all = d.pending.all();
  if (all.length === 0) {
    void vscode.window.showInformationMessage('No pending Tether suggestions.');
    return undefined;
  }
  if (all.length === 1) {
    return all[0].proposalId;
  }
  const picked = await vscode.window.showQuickPick(
    all.map((p) => ({
      label: p.message,
      description: `${vscode.workspace.asRelativePath(p.uri)}:${p.range.start.line + 1}`,
      id: p.proposalId,
    })),
    { placeHolder, matchOnDescription: true },
  );
  return picked?.id;
}

async function reviewPending(d: CommandDeps): Promise<void> {
  const id = await pickPending(d, 'Review which suggestion?');
  if (id) {
    await d.review.open(id);
  }
}

interface TaskChoice extends vscode.QuickPickItem {
  args: Record<string, unknown>;
}

/** Ask the agent for a suggestion on the selection, with one of the spec's tasks. */
async function suggest(d: CommandDeps): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.uri.scheme !== 'file') {
    void vscode.window.showInformationMessage('Open a file and select the code to work on.');
    return;
  }
  const doc = editor.document;
  const sel = editor.selection;
  const range = sel.isEmpty ? doc.lineAt(sel.active.line).range : new vscode.Range(sel.start, sel.end);
  const rangeJson = {
    start: { line: range.start.line, character: range.start.character },
    end: { line: range.end.line, character: range.end.character },
  };
  // The server offers one code action per task of the agent spec: offer those.
  const actions =
    (await vscode.commands.executeCommand<(vscode.Command | vscode.CodeAction)[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      range,
    )) ?? [];
  const choices: TaskChoice[] = [];
  for (const a of actions) {
    const cmd = a instanceof vscode.CodeAction ? a.command : (a as vscode.Command);
    if (cmd?.command === Commands.propose) {
      choices.push({ label: a.title.replace(/^Tether:\s*/, ''), args: commandPayload(cmd.arguments ?? []) });
    }
  }
  if (choices.length === 0) {
    for (const task of ['improve', 'document']) {
      choices.push({ label: task.charAt(0).toUpperCase() + task.slice(1), args: { task } });
    }
  }
  const picked =
    choices.length === 1 ? choices[0] : await vscode.window.showQuickPick(choices, { placeHolder: 'What should Tether do with the selection?' });
  if (!picked) {
    return;
  }
  // a notification (with Cancel) shows the model's answer while it is written
  await answered(d, () => {
    const now = selectionOf();
    const range = now && now.uri === doc.uri.toString() ? now.range : rangeJson;
    return withAnswerProgress(d.server(), `Tether: ${picked.label}`, (options) =>
      d.server().command(Commands.propose, { uri: doc.uri.toString(), ...picked.args, range }, options),
    );
  });
}

/** The selection (or the cursor's line) of a file editor, as the contract's range. */
function selectionOf(): { uri: string; range: Record<string, unknown> } | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.uri.scheme !== 'file') {
    void vscode.window.showInformationMessage('Open a file and select the code to work on.');
    return undefined;
  }
  const sel = editor.selection;
  const range = sel.isEmpty ? editor.document.lineAt(sel.active.line).range : new vscode.Range(sel.start, sel.end);
  return {
    uri: editor.document.uri.toString(),
    range: {
      start: { line: range.start.line, character: range.start.character },
      end: { line: range.end.line, character: range.end.character },
    },
  };
}

/** "Ask…": a request in the user's own words on the selection. */
async function ask(d: CommandDeps): Promise<void> {
  const where = selectionOf();
  if (!where) {
    return;
  }
  const words = await vscode.window.showInputBox({
    title: 'Ask Tether',
    prompt: 'What should Tether do with the selection? In your own words.',
    placeHolder: 'e.g. make this iterative, shorter, handle an empty list',
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : 'Say in a few words what you want.'),
  });
  if (!words?.trim()) {
    return;
  }
  // a notification (with Cancel) shows the model's answer while it is written; Retry
  // sends the same words again, on the selection as it is then (it may have widened)
  await answered(d, () => {
    const now = selectionOf() ?? where;
    return withAnswerProgress(d.server(), `Tether: ${short(words)}`, (options) =>
      d.server().command(Commands.ask, { ...now, instruction: words.trim() }, options),
    );
  });
}

/**
 * Run a request that makes suggestions and open the first one; a failure shows in the
 * server's words with its actions, and Retry (or Select enclosing function) sends it again.
 */
async function answered(d: CommandDeps, send: () => Promise<unknown>): Promise<void> {
  try {
    await review(d, await send());
  } catch (error) {
    void showError(error, {
      retry: () => answered(d, send),
      rephrase: () => ask(d),
      output: d.output,
      restart: () => d.server().restart(),
    });
  }
}

async function askRefinement(): Promise<string | undefined> {
  const words = await vscode.window.showInputBox({
    title: 'Refine Tether suggestion',
    prompt: 'What should change? Your words teach Tether, and it answers again.',
    placeHolder: 'e.g. keep the original names, no type hints, shorter',
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : 'Say in a few words what should change.'),
  });
  return words?.trim() || undefined;
}

/** Regenerate / Refine: the server answers again; the new suggestion opens in its diff. */
async function replace(
  d: CommandDeps,
  proposalId: string,
  command: string,
  extra: Record<string, unknown>,
  title: string,
): Promise<void> {
  await answered(d, () =>
    withAnswerProgress(d.server(), title, (options) => d.server().command(command, { proposalId, ...extra }, options)),
  );
}

/** The user's words, short enough for a notification's title. */
function short(words: string, limit = 48): string {
  const line = words.trim().split(/\s+/).join(' ');
  return line.length <= limit ? line : `${line.slice(0, limit - 1)}…`;
}

async function review(d: CommandDeps, answer: unknown): Promise<void> {
  const ids = shownIdsOf(answer);
  if (ids.length === 0) {
    const all = proposalIdsOf(answer);
    void vscode.window.showInformationMessage(
      all.length ? 'Tether decided this one by itself (see the history).' : 'Tether has no suggestion for this selection.',
    );
    return;
  }
  await d.review.open(ids[0]);
}

async function verify(d: CommandDeps): Promise<void> {
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Tether: verifying the audit log…' },
    () => d.server().command(Commands.verify),
  );
  const { ok, text } = verifySummary(result);
  if (ok) {
    void vscode.window.showInformationMessage(text);
  } else {
    void vscode.window.showErrorMessage(text, { modal: true });
  }
}

async function pin(d: CommandDeps): Promise<void> {
  const profile = await d.server().profile();
  if (profile.classes.length === 0) {
    void vscode.window.showInformationMessage('No decision classes yet: decide on a few suggestions first.');
    return;
  }
  const cls = await vscode.window.showQuickPick(
    profile.classes.map((c) => ({
      label: c.classKey,
      description: `${c.mode ?? '?'}${c.pinned ? ` (pinned: ${c.pinned})` : ''}`,
      detail: c.mean === null ? `n=${c.n}` : `approval ${Math.round(c.mean * 100)}%, n=${c.n}`,
    })),
    { placeHolder: 'Pin which decision class?', matchOnDetail: true },
  );
  if (!cls) {
    return;
  }
  const mode = await vscode.window.showQuickPick(
    [
      { label: 'Always ask', detail: 'Never apply this kind of change without asking me.', mode: 'always_ask' as string | null },
      { label: 'Never apply automatically', detail: 'Keep showing, never auto-apply.', mode: 'never_auto' },
      { label: 'Unpin', detail: 'Let the learned policy decide again.', mode: null },
    ],
    { placeHolder: `Pin ${cls.label}` },
  );
  if (!mode) {
    return;
  }
  await d.server().command(Commands.pin, { classKey: cls.label, mode: mode.mode });
  void vscode.window.showInformationMessage(`${cls.label}: ${mode.label.toLowerCase()}.`);
}

async function openSpec(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showInformationMessage('Open a folder first: the agent spec lives in it.');
    return;
  }
  const spec = vscode.Uri.joinPath(folder.uri, '.tether', 'agent.md');
  const toml = vscode.Uri.joinPath(folder.uri, 'tether.toml');
  for (const candidate of [spec, toml]) {
    try {
      await vscode.workspace.fs.stat(candidate);
      await vscode.window.showTextDocument(candidate);
      return;
    } catch {
      // not there: try the next
    }
  }
  const choice = await vscode.window.showInformationMessage(
    'This workspace has no agent spec (.tether/agent.md). Create one?',
    'Create',
  );
  if (choice === 'Create') {
    await vscode.workspace.fs.writeFile(spec, new TextEncoder().encode(SPEC_TEMPLATE));
    await vscode.window.showTextDocument(spec);
  }
}
