/**
 * Pending proposals, as the server publishes them: diagnostics with source `tether` whose
 * `data` is the proposal id. The status bar counts them, the palette commands pick from
 * them, and the `tether.suggestionAtCursor` context key scopes the keyboard shortcuts.
 */

import * as vscode from 'vscode';
import { DIAGNOSTIC_SOURCE, proposalIdOfData } from './protocol';

export interface PendingSuggestion {
  proposalId: string;
  uri: vscode.Uri;
  range: vscode.Range;
  message: string;
}

export class PendingSuggestions implements vscode.Disposable {
  private readonly byUri = new Map<string, PendingSuggestion[]>();
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  private atCursor = false;

  constructor() {
    this.disposables.push(
      vscode.window.onDidChangeTextEditorSelection((e) => this.updateContext(e.textEditor)),
      vscode.window.onDidChangeActiveTextEditor((e) => this.updateContext(e)),
    );
  }

  /** Called from the diagnostics middleware with what the server published for `uri`. */
  update(uri: vscode.Uri, diagnostics: readonly vscode.Diagnostic[]): void {
    const found: PendingSuggestion[] = [];
    for (const d of diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE) {
        continue;
      }
      const id = proposalIdOfData((d as vscode.Diagnostic & { data?: unknown }).data);
      if (id) {
        found.push({ proposalId: id, uri, range: d.range, message: d.message });
      }
    }
    if (found.length) {
      this.byUri.set(uri.toString(), found);
    } else {
      this.byUri.delete(uri.toString());
    }
    this.emitter.fire();
    this.updateContext(vscode.window.activeTextEditor);
  }

  clear(): void {
    this.byUri.clear();
    this.emitter.fire();
    this.updateContext(vscode.window.activeTextEditor);
  }

  get count(): number {
    let n = 0;
    for (const list of this.byUri.values()) {
      n += list.length;
    }
    return n;
  }

  all(): PendingSuggestion[] {
    return [...this.byUri.values()].flat();
  }

  get(proposalId: string): PendingSuggestion | undefined {
    return this.all().find((p) => p.proposalId === proposalId);
  }

  forUri(uri: vscode.Uri): PendingSuggestion[] {
    return this.byUri.get(uri.toString()) ?? [];
  }

  /** The suggestion under (or nearest above) the cursor of `editor`. */
  at(editor: vscode.TextEditor | undefined): PendingSuggestion | undefined {
    if (!editor) {
      return undefined;
    }
    const list = this.forUri(editor.document.uri);
    const pos = editor.selection.active;
    return list.find((p) => p.range.contains(pos) || p.range.start.line === pos.line);
  }

  private updateContext(editor: vscode.TextEditor | undefined): void {
    const now = this.at(editor) !== undefined;
    if (now !== this.atCursor) {
      this.atCursor = now;
      void vscode.commands.executeCommand('setContext', 'tether.suggestionAtCursor', now);
    }
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
