/**
 * Tether for VS Code: wires the language client, the approval UI, the side panel, the
 * status bar and the commands together. Each piece lives in its own module.
 */

import * as vscode from 'vscode';
import { Approvals } from './approvals';
import { registerCommands } from './commands';
import { DiffReview } from './diffReview';
import { PANEL_VIEW_ID, TetherPanel } from './panel';
import { PendingSuggestions } from './pending';
import { TetherServer } from './server';
import { TetherStatusBar } from './statusBar';
import { Training } from './training';

let server: TetherServer | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Tether', { log: true });
  const pending = new PendingSuggestions();
  const getServer = () => {
    if (!server) {
      throw new Error('The Tether server is not set up.');
    }
    return server;
  };
  const approvals = new Approvals(getServer, pending);
  server = new TetherServer(context, output, {
    middleware: approvals.middleware(),
    showMessageRequest: (params) => approvals.showMessageRequest(params),
  });
  const review = new DiffReview(getServer, approvals, pending);
  const training = new Training(getServer);
  training.follow(server);
  const panel = new TetherPanel(context.extensionUri, getServer, {
    openDecision: (d) => review.openDecision(d),
    openDecided: (p, d) => review.openDecided(p, d),
    trainNow: () => training.trainNow(),
    cancelTraining: () => training.cancel(),
  });
  panel.follow(server);
  const status = new TetherStatusBar(pending);

  const refreshAdapter = async () => {
    try {
      status.setAdapter((await getServer().profile()).activeAdapter);
    } catch (error) {
      output.debug(`profile for the status bar: ${String(error)}`);
    }
  };

  context.subscriptions.push(
    output,
    pending,
    approvals,
    review,
    training,
    panel,
    status,
    server,
    vscode.window.registerWebviewViewProvider(PANEL_VIEW_ID, panel, { webviewOptions: { retainContextWhenHidden: true } }),
    pending.onDidChange(() => status.render()),
    server.onDidChangeState((s) => {
      status.setState(s);
      if (s === 'running') {
        void refreshAdapter();
      } else {
        pending.clear();
      }
    }),
    training.onStatus((t) => {
      status.setTraining(t);
      panel.training(t);
      if (t.state !== 'running') {
        void refreshAdapter();
      }
    }),
    ...registerCommands({ server: getServer, approvals, review, pending, panel, training, output }),
  );
  void server.start();
}

export async function deactivate(): Promise<void> {
  const s = server;
  server = undefined;
  await s?.stop();
}
