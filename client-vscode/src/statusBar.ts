/** The status bar item: pending suggestions, active adapter, training progress; opens the panel. */

import * as vscode from 'vscode';
import type { PendingSuggestions } from './pending';
import { type ServerState, statusText } from './present';
import type { TrainingView } from './protocol';

export class TetherStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tether.status', vscode.StatusBarAlignment.Right, 100);
  private state: ServerState = 'starting';
  private activeAdapter: string | null = null;
  private training: TrainingView | null = null;

  constructor(private readonly pending: PendingSuggestions) {
    this.item.name = 'Tether';
    this.item.command = 'tether.ui.showPanel';
    this.item.accessibilityInformation = { label: 'Tether status', role: 'button' };
    this.render();
    this.item.show();
  }

  setState(state: ServerState): void {
    this.state = state;
    this.render();
  }

  setAdapter(version: string | null): void {
    this.activeAdapter = version;
    this.render();
  }

  setTraining(t: TrainingView): void {
    this.training = t;
    this.render();
  }

  render(): void {
    const s = statusText({
      state: this.state,
      pending: this.pending.count,
      activeAdapter: this.activeAdapter,
      training: this.training,
    });
    this.item.text = s.text;
    this.item.tooltip = s.tooltip;
    this.item.accessibilityInformation = { label: s.tooltip.replace(/\n/g, '. '), role: 'button' };
    this.item.backgroundColor =
      this.state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
