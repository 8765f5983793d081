/**
 * A suggestion request with the model's answer shown while it is written.
 *
 * The client makes the request's work-done token itself, so the progress is a
 * notification with Cancel (the language client would only spin in the status bar), and
 * each `$/progress` report, the answer so far, becomes the notification's message: the
 * line being written. Cancel cancels the request; the server stops the model.
 */

import * as vscode from 'vscode';
import { partialAnswerLine } from './partial';
import type { TetherServer } from './server';

export interface AnswerRequest {
  workDoneToken: string;
  token: vscode.CancellationToken;
}

export async function withAnswerProgress<T>(
  server: TetherServer,
  title: string,
  send: (request: AnswerRequest) => Promise<T>,
): Promise<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, cancel) => {
      const workDoneToken = `tether-answer-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
      let subscription: vscode.Disposable | undefined;
      try {
        subscription = server.onProgress(workDoneToken, (value) => {
          if (value.kind === 'report' && value.message) {
            progress.report({ message: partialAnswerLine(value.message) });
          } else if (value.kind === 'begin' && value.message) {
            progress.report({ message: value.message });
          }
        });
      } catch {
        // the server is not running: sending says so, in words
      }
      try {
        return await send({ workDoneToken, token: cancel });
      } finally {
        subscription?.dispose();
      }
    },
  );
}
