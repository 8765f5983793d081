/**
 * The server's message catalogue as the client reads it (`tether.core.messages`): an error
 * response carries `data.message` = { code, what, why, fix, actions[{id, title}], detail }.
 * The text shown is the server's own line; the client adds no prefix (the notification
 * already says it comes from Tether). No `vscode` import.
 */

export interface MessageAction {
  id: string;
  title: string;
}

export interface UserMessage {
  code: string;
  text: string;
  actions: MessageAction[];
  detail: string[];
}

/** Action ids the server sends (`ACTION_*` in tether.core.messages). */
export const Actions = {
  retry: 'retry',
  selectFunction: 'selectEnclosingFunction',
  rephrase: 'rephrase',
  openSettings: 'openSettings',
  openSpec: 'openSpec',
  showLog: 'showLog',
  restart: 'restartServer',
} as const;

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Drop a leading "Tether:" (older servers, other paths): never say it twice. */
export function withoutPrefix(text: string): string {
  return text.replace(/^(\s*Tether:\s*)+/i, '').trim();
}

/** The message of any error: the catalogue's parts when the server sent them. */
export function userMessage(error: unknown): UserMessage {
  let text = '';
  let data: unknown;
  if (error instanceof Error) {
    text = error.message;
    data = (error as { data?: unknown }).data;
  } else if (error && typeof error === 'object') {
    text = str((error as { message?: unknown }).message);
    data = (error as { data?: unknown }).data;
  } else {
    text = String(error);
  }
  const d = data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
  const m = d.message && typeof d.message === 'object' ? (d.message as Record<string, unknown>) : undefined;
  const actions: MessageAction[] = [];
  for (const a of Array.isArray(m?.actions) ? m.actions : []) {
    if (a && typeof a === 'object' && str((a as MessageAction).id) && str((a as MessageAction).title)) {
      actions.push({ id: (a as MessageAction).id, title: (a as MessageAction).title });
    }
  }
  return {
    code: str(m?.code) || str(d.kind) || 'error',
    text: withoutPrefix(text) || 'Something went wrong.',
    actions,
    detail: Array.isArray(m?.detail) ? m.detail.map(String) : [],
  };
}

/** Whether an error is the user's own cancel (nothing to show). */
export function isCancellation(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === -32800 || userMessage(error).code === 'cancelled';
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<string, LogLevel> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  WARN: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
};

/**
 * The real level of each line the server writes to stderr. The server logs as
 * `tether LEVEL logger: message`; anything else (model loading progress, a library's
 * print) is information, except a traceback, whose indented lines follow their header.
 */
export class StderrLevels {
  private last: LogLevel = 'info';

  levelOf(line: string): LogLevel {
    const m = /^tether (DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL) /.exec(line);
    if (m) {
      this.last = LEVELS[m[1]];
    } else if (/^Traceback \(most recent call last\)/.test(line)) {
      this.last = 'error';
    } else if (!/^\s/.test(line) && !/^\w*(Error|Exception)\b/.test(line)) {
      this.last = 'info';
    }
    return this.last;
  }
}
