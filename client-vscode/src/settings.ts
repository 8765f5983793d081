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

export type InterpreterSource = 'setting' | 'workspace-venv' | 'python-extension' | 'path' | 'default';

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

/** Where discovery looked and what it found: `found` is undefined when no candidate has Tether. */
export interface Discovery {
  found?: Interpreter;
  tried: Interpreter[];
}

/**
 * Find an interpreter that has Tether installed: the `tether.python` setting (only it, when
 * set: a wrong setting is reported, not silently replaced), else the workspace's `.venv` /
 * `venv`, the Python extension's choice, then `python3` and `python` on PATH.
 */
export async function discoverInterpreter(opts: {
  configured: string;
  workspaceFolder?: string;
  userHome: string;
  fromPythonExtension: () => Promise<string | undefined>;
  exists: (path: string) => boolean;
  hasTether: (command: string) => Promise<boolean>;
  windows?: boolean;
}): Promise<Discovery> {
  const candidates: Interpreter[] = [];
  if (opts.configured.trim()) {
    candidates.push({ command: expandPath(opts.configured, opts), source: 'setting' });
  } else {
    if (opts.workspaceFolder) {
      const rel = opts.windows ? ['Scripts', 'python.exe'] : ['bin', 'python'];
      for (const dir of ['.venv', 'venv']) {
        const path = [opts.workspaceFolder, dir, ...rel].join(opts.windows ? '\\' : '/');
        if (opts.exists(path)) {
          candidates.push({ command: path, source: 'workspace-venv' });
        }
      }
    }
    let fromExtension: string | undefined;
    try {
      fromExtension = (await opts.fromPythonExtension())?.trim();
    } catch {
      fromExtension = undefined;
    }
    if (fromExtension) {
      candidates.push({ command: fromExtension, source: 'python-extension' });
    }
    candidates.push({ command: 'python3', source: 'path' }, { command: 'python', source: 'path' });
  }
  const tried: Interpreter[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c.command)) continue;
    seen.add(c.command);
    tried.push(c);
    if (await opts.hasTether(c.command)) {
      return { found: c, tried };
    }
  }
  return { tried };
}

/** What to tell the user when no interpreter has Tether. */
export function noInterpreterMessage(d: Discovery): string {
  const where = d.tried.map((t) => t.command).join(', ');
  if (d.tried.length === 1 && d.tried[0].source === 'setting') {
    return `The interpreter in tether.python (${where}) does not have Tether installed. Install it there (pip install tether) or change the setting.`;
  }
  return `No Python interpreter with Tether installed was found (tried ${where}). Install it into your project's environment (pip install tether), or set tether.python to an interpreter that has it.`;
}
