/**
 * "Train now": a notification with a progress bar and Cancel.
 *
 * `tether.trainNow` answers at once and the run goes on in the server's child process; the
 * request carries a work-done token of ours, so the server reports its `$/progress` to this
 * bar (instead of opening one of its own) and Cancel sends `tether.cancelTraining`. The
 * `tether/trainingStatus` notifications keep the status bar and the panel current.
 */

import * as vscode from 'vscode';
import { showError } from './errors';
import { errorText } from './approvals';
import { trainingOutcomeText } from './present';
import { Commands, type TrainingView, normalizeTraining } from './protocol';
import type { TetherServer } from './server';

export class Training implements vscode.Disposable {
  private latest: TrainingView | null = null;
  private running = false;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly emitter = new vscode.EventEmitter<TrainingView>();
  /** Every status the server reports. */
  readonly onStatus = this.emitter.event;

  constructor(private readonly server: () => TetherServer) {
    this.disposables.push(this.emitter);
  }

  follow(server: TetherServer): void {
    this.disposables.push(server.onTrainingStatus((t) => this.update(t)));
  }

  get status(): TrainingView | null {
    return this.latest;
  }

  private update(t: TrainingView): void {
    this.latest = t;
    this.emitter.fire(t);
  }

  async cancel(): Promise<void> {
    try {
      await this.server().command(Commands.cancelTraining);
    } catch (error) {
      void showError(error);
    }
  }

  async trainNow(): Promise<void> {
    if (this.running) {
      void vscode.window.showInformationMessage('Tether is already training; its progress is in the notification.');
      return;
    }
    this.running = true;
    try {
      const error = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Tether: training', cancellable: true },
        (progress, token) => this.run(progress, token),
      );
      if (error !== undefined) {
        void showError(error);
        return;
      }
      // The server announces the result itself; the status bar keeps it a while longer.
      const after = await this.server()
        .profile()
        .then((p) => p.training)
        .catch(() => null);
      if (after) {
        this.update(after);
        if (after.lastResult) {
          vscode.window.setStatusBarMessage(
            `$(sparkle) ${trainingOutcomeText({ ...after, state: after.lastResult.status, message: after.lastResult.reason })}`,
            15000,
          );
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Resolves when the server ends the run's progress; with an error text if it never began. */
  private async run(
    progress: vscode.Progress<{ message?: string; increment?: number }>,
    cancel: vscode.CancellationToken,
  ): Promise<string | undefined> {
    const server = this.server();
    const token = `tether-train-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    let shown = 0;
    let resolveEnd: (error?: string) => void = () => undefined;
    const ended = new Promise<string | undefined>((resolve) => {
      resolveEnd = resolve;
    });
    const report = (message: string | undefined, percentage: number | undefined) => {
      let increment: number | undefined;
      if (percentage !== undefined && percentage > shown) {
        increment = percentage - shown;
        shown = percentage;
      }
      progress.report({ message, increment });
    };
    const subscriptions = [
      server.onProgress(token, (value) => {
        if (value.kind === 'end') {
          report(value.message, 100);
          resolveEnd();
        } else {
          report(value.message, value.percentage);
        }
      }),
      cancel.onCancellationRequested(() => {
        progress.report({ message: 'cancelling…' });
        void this.cancel();
      }),
      // a server that dies mid-run never ends the progress: stop waiting for it
      server.onDidChangeState((state) => {
        if (state !== 'running') {
          resolveEnd('the Tether server stopped during training');
        }
      }),
    ];
    try {
      progress.report({ message: 'starting…' });
      try {
        const answer = await server.command(Commands.trainNow, {}, { workDoneToken: token });
        this.update(normalizeTraining(answer));
      } catch (error) {
        return errorText(error);
      }
      return await ended;
    } finally {
      for (const s of subscriptions) {
        s.dispose();
      }
    }
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
