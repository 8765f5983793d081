/**
 * Shows a failure as the server worded it, with its actions as buttons (Retry, Select
 * enclosing function, Open settings, …). One place, so every command behaves the same.
 */

import * as vscode from 'vscode';
import { Actions, type MessageAction, isCancellation, userMessage } from './messages';
import { enclosingBlock } from './text';

export interface ErrorHooks {
  /** Runs the failed request again (offered as "Retry"). */
  retry?: () => Promise<unknown>;
  /** Asks again in the user's own words (offered for "rephrase"). */
  rephrase?: () => Promise<unknown>;
  output?: vscode.LogOutputChannel;
  restart?: () => Promise<unknown>;
}

/** Buttons the client can carry out with the hooks it was given. */
function doable(actions: MessageAction[], hooks: ErrorHooks): MessageAction[] {
  return actions.filter((a) => {
    switch (a.id) {
      case Actions.retry:
      case Actions.selectFunction:
        return !!hooks.retry;
      case Actions.rephrase:
        return !!hooks.rephrase;
      case Actions.restart:
        return !!hooks.restart;
      case Actions.showLog:
        return !!hooks.output;
      case Actions.openSettings:
      case Actions.openSpec:
        return true;
      default:
        return false;
    }
  });
}

export async function showError(error: unknown, hooks: ErrorHooks = {}): Promise<void> {
  if (isCancellation(error)) {
    return;
  }
  const msg = userMessage(error);
  hooks.output?.error(`${msg.text}${msg.detail.length ? ` [${msg.detail.join('; ')}]` : ''}`);
  const actions = doable(msg.actions, hooks);
  if (hooks.output && !actions.some((a) => a.id === Actions.showLog) && msg.code === 'internal') {
    actions.push({ id: Actions.showLog, title: 'Show log' });
  }
  const picked = await vscode.window.showErrorMessage(msg.text, ...actions.map((a) => a.title));
  const action = actions.find((a) => a.title === picked);
  if (!action) {
    return;
  }
  switch (action.id) {
    case Actions.retry:
      await hooks.retry?.();
      return;
    case Actions.selectFunction:
      if (selectEnclosingFunction()) {
        await hooks.retry?.();
      }
      return;
    case Actions.rephrase:
      await hooks.rephrase?.();
      return;
    case Actions.openSettings:
      await vscode.commands.executeCommand('workbench.action.openSettings', 'tether.');
      return;
    case Actions.openSpec:
      await vscode.commands.executeCommand('tether.ui.openSpec');
      return;
    case Actions.showLog:
      hooks.output?.show();
      return;
    case Actions.restart:
      await hooks.restart?.();
      return;
  }
}

/** Widen the active editor's selection to the enclosing function or class; false if none. */
export function selectEnclosingFunction(): boolean {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return false;
  }
  const lines = editor.document.getText().split('\n');
  const block = enclosingBlock(lines, editor.selection.start.line, editor.selection.end.line);
  if (!block) {
    return false;
  }
  const end = editor.document.lineAt(block.end).range.end;
  editor.selection = new vscode.Selection(block.start, 0, end.line, end.character);
  editor.revealRange(editor.selection);
  return true;
}
