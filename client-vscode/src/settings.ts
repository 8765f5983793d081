/**
 * Which VS Code settings go to the server, and under which names.
 *
 * The server validates its settings strictly (an unknown key is an error), so only the
 * keys listed here travel; client-only settings (the interpreter, approval UI, tracing)
 * stay in the client. A setting the user never set is left out, so `tether.toml` and
 * `TETHER_*` keep deciding for it. No `vscode` import.
 */

/** VS Code key (under `tether.`) → server settings path. */
export const SERVER_SETTINGS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['model', ['model']],
  ['teacher', ['teacher']],
  ['studentThreshold', ['student_threshold']],
  ['policy.autoThreshold', ['policy', 'auto_threshold']],
  ['policy.quietThreshold', ['policy', 'quiet_threshold']],
  ['policy.exploration', ['policy', 'exploration']],
  ['reviewOnSave', ['review_on_save']],
  ['home', ['home']],
  ['training.autoSchedule', ['training', 'auto_schedule']],
  ['training.minNewLabels', ['training', 'min_new_labels']],
  ['training.maxSteps', ['training', 'max_steps']],
  ['correctionWindowSeconds', ['correction_window_seconds']],
];

/**
 * The settings object for the server. `explicit(key)` returns the user's value for
 * `tether.<key>` when one is set at any level, else undefined.
 */
export function serverSettings(explicit: (key: string) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, path] of SERVER_SETTINGS) {
    let value = explicit(key);
    if (typeof value === 'string') {
      value = value.trim();
    }
    if (value === undefined || value === null || value === '') {
      continue;
    }
    let node = out;
    for (const part of path.slice(0, -1)) {
      node = (node[part] ??= {}) as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return out;
}

/** Expand `${workspaceFolder}`, `${userHome}` and a leading `~` in a path setting. */
export function expandPath(value: string, vars: { workspaceFolder?: string; userHome: string }): string {
  let out = value.trim();
  if (out === '~' || out.startsWith('~/')) {
    out = vars.userHome + out.slice(1);
  }
  out = out.replace(/\$\{userHome\}/g, vars.userHome);
  if (vars.workspaceFolder !== undefined) {
    out = out.replace(/\$\{workspaceFolder\}/g, vars.workspaceFolder);
  }
  return out;
}

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

export interface Interpreter {
  command: string;
  source: InterpreterSource;
}

/**
 * The interpreter that runs the server: the `tether.python` setting, else the Python
 * extension's selected interpreter, else `python3`.
 */
export async function resolveInterpreter(opts: {
  configured: string;
  workspaceFolder?: string;
  userHome: string;
  fromPythonExtension: () => Promise<string | undefined>;
}): Promise<Interpreter> {
  if (opts.configured.trim()) {
    return { command: expandPath(opts.configured, opts), source: 'setting' };
  }
  let fromExtension: string | undefined;
  try {
    fromExtension = await opts.fromPythonExtension();
  } catch {
    fromExtension = undefined;
  }
  if (fromExtension && fromExtension.trim()) {
    return { command: fromExtension.trim(), source: 'python-extension' };
  }
  return { command: 'python3', source: 'default' };
}
