/**
 * The language client for `python -m tether lsp`: starting it with the right interpreter,
 * restarting it with backoff after a crash, and typed access to the Tether requests.
 *
 * Everything else in the extension talks to the server through this class, so a restart
 * (new client, new connection) is invisible to them apart from the state events.
 */

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as readline from 'node:readline';
import * as vscode from 'vscode';
import {
  CloseAction,
  type CloseHandlerResult,
  ErrorAction,
  type ErrorHandlerResult,
  type ExecuteCommandParams,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type Middleware,
  type ServerOptions,
  State,
  TransportKind,
  WorkDoneProgress,
  type WorkDoneProgressBegin,
  type WorkDoneProgressEnd,
  type WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { Backoff } from './backoff';
import { StderrLevels } from './messages';
import type { ServerState } from './present';
import type { ProductionResult, StudentsResult } from './generated/contract';
import {
  Commands,
  ContractError,
  type HistoryPageView,
  type HistoryQuery,
  Notifications,
  type ProfileView,
  type ProposalView,
  Requests,
  type TrainingView,
  historyParams,
  normalizeDecision,
  normalizeHistory,
  normalizeProfile,
  normalizeProposal,
  normalizeTraining,
  type DecisionView,
} from './protocol';
import {
  type Discovery,
  type Interpreter,
  discoverInterpreter,
  expandPath,
  noInterpreterMessage,
  serverSettings,
} from './settings';

export const CLIENT_ID = 'tether';
const CLIENT_NAME = 'Tether';

/** Hooks the approval UI plugs into the client (middleware, server-to-client requests). */
export interface ClientHooks {
  middleware: Middleware;
  /** Registered as the `window/showMessageRequest` handler of every client. */
  showMessageRequest: (params: {
    type: number;
    message: string;
    actions?: { title: string }[];
  }) => Promise<{ title: string } | null>;
}

export class TetherServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly backoff = new Backoff();
  private startedAt = 0;
  private stopping = false;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private cancelRestart: (() => void) | undefined;
  private _state: ServerState = 'stopped';
  private readonly disposables: vscode.Disposable[] = [];
  private clientDisposables: vscode.Disposable[] = [];

  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeState = this.stateEmitter.event;
  private readonly decisionEmitter = new vscode.EventEmitter<DecisionView>();
  readonly onDecisionRecorded = this.decisionEmitter.event;
  private readonly trainingEmitter = new vscode.EventEmitter<TrainingView>();
  readonly onTrainingStatus = this.trainingEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    private readonly hooks: ClientHooks,
  ) {
    this.disposables.push(
      this.stateEmitter,
      this.decisionEmitter,
      this.trainingEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => this.configurationChanged(e)),
    );
  }

  get state(): ServerState {
    return this._state;
  }

  get languageClient(): LanguageClient | undefined {
    return this.client;
  }

  private setState(state: ServerState): void {
    if (state !== this._state) {
      this._state = state;
      this.stateEmitter.fire(state);
    }
  }

  /** The settings object the server gets at initialize and on every change. */
  settingsForServer(): Record<string, unknown> {
    const config = vscode.workspace.getConfiguration('tether');
    const settings = serverSettings((key) => {
      const i = config.inspect(key);
      if (!i) {
        return undefined;
      }
      return i.workspaceFolderValue ?? i.workspaceValue ?? i.globalValue;
    });
    if (typeof settings.home === 'string') {
      settings.home = expandPath(settings.home, this.pathVars());
    }
    return settings;
  }

  private pathVars(): { workspaceFolder?: string; userHome: string } {
    return { workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, userHome: os.homedir() };
  }

  /** Why the server is not running, in words, with the next step (for the panel's welcome). */
  problem: string | undefined;
  /** The interpreter the running server uses. */
  current: Interpreter | undefined;

  async discover(): Promise<Discovery> {
    const config = vscode.workspace.getConfiguration('tether');
    return discoverInterpreter({
      configured: config.get<string>('python', ''),
      ...this.pathVars(),
      fromPythonExtension: () => pythonExtensionInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri),
      exists: (p) => fs.existsSync(p),
      hasTether,
      windows: process.platform === 'win32',
    });
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.setState(this.client ? 'restarting' : 'starting');
    const discovery = await this.discover();
    const interpreter = discovery.found;
    if (!interpreter) {
      this.problem = noInterpreterMessage(discovery);
      this.output.error(this.problem);
      this.setState('failed');
      void vscode.window.showErrorMessage(this.problem, 'Open Settings', 'Show Log').then((choice) => {
        if (choice === 'Open Settings') {
          void vscode.commands.executeCommand('workbench.action.openSettings', 'tether.python');
        } else if (choice === 'Show Log') {
          this.output.show();
        }
      });
      return;
    }
    this.problem = undefined;
    this.current = interpreter;
    const home = this.settingsForServer().home;
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1' };
    if (typeof home === 'string' && home) {
      env.TETHER_HOME = home;
    }
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const serverOptions: ServerOptions = {
      command: interpreter.command,
      args: ['-m', 'tether', 'lsp'],
      transport: TransportKind.stdio,
      options: { cwd, env },
    };
    this.output.info(`Starting the Tether server: ${interpreter.command} -m tether lsp (interpreter from ${interpreter.source})`);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      outputChannel: this.output,
      // stderr at its real level: model loading and library chatter are not errors
      stdioOptions: {
        stdout: (input, channel) => lines(input, (line) => channel.info(line)),
        stderr: (input, channel) => {
          const levels = new StderrLevels();
          lines(input, (line) => {
            const level = levels.levelOf(line);
            const log = channel as vscode.LogOutputChannel;
            log[level](line);
          });
        },
      },
      traceOutputChannel: this.output,
      initializationOptions: this.settingsForServer(),
      middleware: {
        ...this.hooks.middleware,
        workspace: {
          ...this.hooks.middleware.workspace,
          // The client would send the whole `tether` section, client-only keys included,
          // which the server refuses; `configurationChanged` sends the server's part.
          didChangeConfiguration: async () => undefined,
          // The server asks for its section; answer with the server-facing settings only.
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) {
              return answers;
            }
            return params.items.map((item, i) =>
              item.section === CLIENT_ID || item.section === undefined ? this.settingsForServer() : answers[i],
            );
          },
        },
      },
      errorHandler: {
        error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => this.connectionClosed(),
      },
    };
    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
    this.client = client;
    this.wire(client);
    this.startedAt = Date.now();
    try {
      await client.start();
      this.setState('running');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.problem = `The Tether server did not start with ${interpreter.command}: ${message}. The log has the details.`;
      this.setState('failed');
      this.output.error(this.problem);
      void vscode.window
        .showErrorMessage(
          this.problem,
          'Open Settings',
          'Show Log',
        )
        .then((choice) => {
          if (choice === 'Open Settings') {
            void vscode.commands.executeCommand('workbench.action.openSettings', 'tether.python');
          } else if (choice === 'Show Log') {
            this.output.show();
          }
        });
    }
  }

  private wire(client: LanguageClient): void {
    for (const d of this.clientDisposables) {
      d.dispose();
    }
    this.clientDisposables = [
      client.onNotification(Notifications.decisionRecorded, (params: unknown) => {
        try {
          this.decisionEmitter.fire(normalizeDecision(params));
        } catch (error) {
          this.output.warn(`Ignoring a malformed tether/decisionRecorded: ${String(error)}`);
        }
      }),
      client.onNotification(Notifications.trainingStatus, (params: unknown) => {
        this.trainingEmitter.fire(normalizeTraining(params));
      }),
      client.onRequest('window/showMessageRequest', (params: Parameters<ClientHooks['showMessageRequest']>[0]) =>
        this.hooks.showMessageRequest(params),
      ),
      client.onDidChangeState((e) => {
        if (e.newState === State.Running) {
          this.setState('running');
        }
      }),
    ];
  }

  /** A crash: restart after a growing delay, or give up and say so. */
  private async connectionClosed(): Promise<CloseHandlerResult> {
    if (this.stopping) {
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const ranFor = Date.now() - this.startedAt;
    const delay = this.backoff.next(ranFor);
    if (delay === undefined) {
      this.setState('failed');
      void vscode.window
        .showErrorMessage('The Tether server keeps crashing; it was not restarted.', 'Restart Server', 'Show Log')
        .then((choice) => {
          if (choice === 'Restart Server') {
            void this.restart();
          } else if (choice === 'Show Log') {
            this.output.show();
          }
        });
      return { action: CloseAction.DoNotRestart, message: 'The Tether server crashed too often; not restarting.', handled: true };
    }
    this.setState('restarting');
    this.output.warn(`The Tether server stopped after ${ranFor} ms; restarting in ${delay} ms (attempt ${this.backoff.attemptCount}).`);
    const restart = await new Promise<boolean>((resolve) => {
      this.cancelRestart = () => resolve(false);
      this.restartTimer = setTimeout(() => resolve(true), delay);
    });
    this.cancelRestart = undefined;
    this.restartTimer = undefined;
    if (!restart || this.stopping) {
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    this.startedAt = Date.now();
    return { action: CloseAction.Restart, message: 'Restarting the Tether server.', handled: true };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
    }
    this.cancelRestart?.();
    const client = this.client;
    if (client && client.state !== State.Stopped) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.output.warn(`Stopping the server: ${String(error)}`);
      }
    }
    this.setState('stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    this.backoff.reset();
    if (this.client) {
      await this.client.dispose().catch(() => undefined);
      this.client = undefined;
    }
    await this.start();
  }

  private configurationChanged(e: vscode.ConfigurationChangeEvent): void {
    if (!e.affectsConfiguration(CLIENT_ID)) {
      return;
    }
    if (e.affectsConfiguration('tether.python') || e.affectsConfiguration('tether.home')) {
      void vscode.window
        .showInformationMessage('Tether: restart the server to use the new interpreter or data location?', 'Restart')
        .then((c) => (c === 'Restart' ? this.restart() : undefined));
      return;
    }
    const client = this.client;
    if (client && client.state === State.Running) {
      // "something changed": the server pulls the whole section (workspace/configuration),
      // so a setting the user cleared stops applying too
      void client
        .sendNotification('workspace/didChangeConfiguration', { settings: null })
        .catch((error: unknown) => this.output.warn(`didChangeConfiguration: ${String(error)}`));
    }
  }

  private running(): LanguageClient {
    const client = this.client;
    if (!client || client.state !== State.Running) {
      throw new Error('The Tether server is not running (Tether: Restart Server starts it).');
    }
    return client;
  }

  /**
   * Runs a server command (`workspace/executeCommand`) with the contract's single argument.
   * With a `workDoneToken` the server reports progress on it (see `onProgress`) instead of
   * opening a progress bar of its own.
   */
  async command<T = unknown>(
    command: string,
    args?: Record<string, unknown>,
    options: { workDoneToken?: string; token?: vscode.CancellationToken } = {},
  ): Promise<T> {
    const client = this.running();
    const params: ExecuteCommandParams = { command, arguments: args === undefined ? [] : [args] };
    if (options.workDoneToken !== undefined) {
      params.workDoneToken = options.workDoneToken;
    }
    return (await client.sendRequest(ExecuteCommandRequest.type, params, options.token)) as T;
  }

  /** `$/progress` for a token this client made up. */
  onProgress(
    token: string,
    handler: (value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd) => void,
  ): vscode.Disposable {
    return this.running().onProgress(WorkDoneProgress.type, token, handler);
  }

  async history(query: HistoryQuery): Promise<HistoryPageView> {
    const raw = await this.running().sendRequest(Requests.history, historyParams(query));
    return normalizeHistory(raw, query);
  }

  async profile(): Promise<ProfileView> {
    return normalizeProfile(await this.running().sendRequest(Requests.profile, {}));
  }

  async proposal(proposalId: string): Promise<ProposalView> {
    return normalizeProposal(await this.running().sendRequest(Requests.proposal, { proposalId }));
  }

  /** Decisions made through `tether serve`, newest first, each with its review (issue 15). */
  async production(pendingOnly = false): Promise<ProductionResult> {
    const raw = (await this.running().sendRequest(Requests.production, { pendingOnly })) as ProductionResult;
    if (!raw || !Array.isArray(raw.items)) {
      throw new ContractError('tether/production did not answer with {items, counts}');
    }
    return raw;
  }

  /** Students the model setting can name on this machine (local engines probed on loopback). */
  async students(): Promise<StudentsResult> {
    const raw = (await this.running().sendRequest(Requests.students, {})) as StudentsResult;
    if (!raw || !Array.isArray(raw.choices)) {
      throw new ContractError('tether/students did not answer with {current, choices}');
    }
    return raw;
  }

  /** The proposal's unified diff, as the server renders it. */
  async proposalDiff(proposalId: string): Promise<string> {
    const raw = (await this.running().sendRequest(Requests.proposal, { proposalId })) as { diff?: unknown };
    return typeof raw?.diff === 'string' ? raw.diff : '';
  }

  trainNow(): Promise<unknown> {
    return this.command(Commands.trainNow);
  }

  dispose(): void {
    void this.stop().then(() => this.client?.dispose());
    for (const d of [...this.clientDisposables, ...this.disposables]) {
      d.dispose();
    }
  }
}

/** The interpreter the Python extension has selected for `resource`, when it is installed. */
async function pythonExtensionInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension('ms-python.python');
  if (!ext) {
    return undefined;
  }
  const api = (ext.isActive ? ext.exports : await ext.activate()) as PythonExtensionApi | undefined;
  const envPath = api?.environments?.getActiveEnvironmentPath?.(resource);
  if (envPath?.path) {
    const resolved = await api?.environments?.resolveEnvironment?.(envPath);
    return resolved?.executable?.uri?.fsPath ?? envPath.path;
  }
  const details = api?.settings?.getExecutionDetails?.(resource);
  return details?.execCommand?.[0];
}

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?: (resource?: vscode.Uri) => { path: string } | undefined;
    resolveEnvironment?: (env: { path: string }) => Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: { getExecutionDetails?: (resource?: vscode.Uri) => { execCommand?: string[] } };
}

function lines(input: NodeJS.ReadableStream, each: (line: string) => void): void {
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 }).on('line', each);
}

/** Whether `python` can import Tether (a few hundred ms; run once per start). */
function hasTether(python: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(python, ['-c', 'import tether'], { timeout: 20000 }, (error) => resolve(!error));
  });
}
