/**
 * The client side of the Tether LSP contract: names and the shapes the UI works with.
 *
 * Every message is defined once, on the server (`tether.protocol`, pydantic); the types in
 * `generated/contract.ts` are generated from its JSON Schema (`python -m
 * tether.protocol.codegen`) and every key on the wire is camelCase. The functions here only
 * check an answer's shape (a clear ContractError instead of a blank panel) and flatten it
 * into the views the UI draws. No `vscode` import: this module is unit-tested under Node.
 */

import type * as Wire from './generated/contract';
import { Methods } from './generated/contract';

export { Methods };

export const Commands = {
  propose: Methods.propose,
  accept: Methods.accept,
  reject: Methods.reject,
  trainNow: Methods.trainNow,
  cancelTraining: Methods.cancelTraining,
  verify: Methods.verify,
  pin: Methods.pin,
  showDiff: Methods.showDiff,
  ask: Methods.ask,
  regenerate: Methods.regenerate,
  refine: Methods.refine,
  reviewProduction: Methods.reviewProduction,
} as const;

export const Requests = {
  history: Methods.history,
  profile: Methods.profile,
  proposal: Methods.proposal,
  status: Methods.status,
  production: Methods.production,
  students: Methods.students,
} as const;

export const Notifications = {
  decisionRecorded: Methods.decisionRecorded,
  trainingStatus: Methods.trainingStatus,
} as const;

/** Diagnostics the server publishes for proposals carry this source. */
export const DIAGNOSTIC_SOURCE = 'tether';

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspRange {
  start: LspPosition;
  end: LspPosition;
}

/** A hunk as the server sends it (`origStart`/`origEnd`: code-point offsets of the change
 * inside `ProposalView.original`). */
export type HunkView = Wire.HunkView;

export interface ProposalView {
  id: string;
  uri: string;
  path: string;
  language: string;
  version: number | null;
  range: LspRange;
  task: string;
  classKey: string;
  risk: string[];
  rationale: string;
  original: string;
  proposed: string;
  hunks: HunkView[];
  model: string;
  role: string;
  adapterVersion: string | null;
  state: string;
  createdAt: string;
}

export interface DecisionView {
  seq: number;
  ts: string;
  outcome: string;
  actor: string;
  proposalId: string | null;
  classKey: string | null;
  path: string | null;
  uri: string | null;
  model: string | null;
  adapterVersion: string | null;
  reason: string | null;
  before: string | null;
  after: string | null;
  hunks: number[] | null;
}

export interface HistoryPageView {
  items: DecisionView[];
  total: number;
  offset: number;
  limit: number;
}

/** What the history panel filters on; sent to the server as a `HistoryFilter`. */
export interface HistoryQuery {
  offset: number;
  limit: number;
  search?: string;
  outcome?: string;
  actor?: string;
  classKey?: string;
  path?: string;
}

export interface ClassView {
  classKey: string;
  n: number;
  mean: number | null;
  lower: number | null;
  upper: number | null;
  credibleMass: number | null;
  mode: string | null;
  reason: string | null;
  mature: boolean | null;
  pinned: string | null;
  /** Verdicts behind `n` (for the one-sentence reason); null when the server sent none. */
  accepts: number | null;
  rejects: number | null;
}

export interface AdapterView {
  version: string;
  status: string;
  createdAt: string | null;
  parent: string | null;
  metrics: Record<string, number | string | boolean | null>;
}

export interface TrainingResultView {
  /** promoted | refused | skipped | cancelled | failed */
  status: string;
  reason: string | null;
  version: string | null;
}

export interface TrainingView {
  /** idle | running (or done / error / cancelled for a run's end). */
  state: string;
  /** What a running job is doing: preparing, loading, training, evaluating, saving, promoting. */
  phase: string | null;
  step: number | null;
  total: number | null;
  message: string | null;
  /** The adapter the last run produced (promoted or refused). */
  adapterVersion: string | null;
  lastResult: TrainingResultView | null;
}

export interface ProfileView {
  classes: ClassView[];
  adapters: AdapterView[];
  training: TrainingView;
  activeAdapter: string | null;
  /** Decisions made through `tether serve`, counted apart (the server's tally, as sent). */
  production: Wire.ProductionCountsView | null;
  /** What the local student saved against the configured teacher (as sent). */
  savings: Wire.SavingsView | null;
}

export class ContractError extends Error {}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value under `key`; keys are camelCase (the contract's), JSON null is undefined. */
function field(obj: Json, key: string): unknown {
  const v = obj[key];
  return v === null ? undefined : v;
}

function str(obj: Json, key: string, fallback = ''): string {
  const v = field(obj, key);
  return typeof v === 'string' ? v : v === undefined || v === null ? fallback : String(v);
}

function strOrNull(obj: Json, key: string): string | null {
  const v = field(obj, key);
  return v === undefined || v === null || v === '' ? null : String(v);
}

function num(obj: Json, key: string): number | null {
  const v = field(obj, key);
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function position(raw: unknown): LspPosition {
  if (!isObject(raw) || typeof raw.line !== 'number' || typeof raw.character !== 'number') {
    throw new ContractError('a position needs numeric line and character');
  }
  return { line: raw.line, character: raw.character };
}

export function normalizeRange(raw: unknown): LspRange {
  if (!isObject(raw)) {
    throw new ContractError('a range needs start and end');
  }
  return { start: position(raw.start), end: position(raw.end) };
}

function normalizeHunk(raw: unknown, i: number): HunkView {
  if (!isObject(raw)) {
    throw new ContractError(`hunk ${i} is not an object`);
  }
  const origStart = num(raw, 'origStart');
  const origEnd = num(raw, 'origEnd');
  if (origStart === null || origEnd === null || origEnd < origStart) {
    throw new ContractError(`hunk ${i} has no valid origStart/origEnd`);
  }
  return {
    index: num(raw, 'index') ?? i,
    range: normalizeRange(field(raw, 'range')),
    origStart,
    origEnd,
    oldText: str(raw, 'oldText'),
    newText: str(raw, 'newText'),
  };
}

/** The answer of `tether/proposal` (the bare proposal, or wrapped as `{proposal}`). */
export function normalizeProposal(raw: unknown): ProposalView {
  let obj = raw;
  if (isObject(obj) && isObject(obj.proposal)) {
    obj = obj.proposal;
  }
  if (!isObject(obj)) {
    throw new ContractError('tether/proposal did not answer with a proposal');
  }
  const id = str(obj, 'id');
  if (!id) {
    throw new ContractError('the proposal has no id');
  }
  const hunksRaw = field(obj, 'hunks');
  const riskRaw = field(obj, 'risk');
  return {
    id,
    uri: str(obj, 'uri'),
    path: str(obj, 'path'),
    language: str(obj, 'language', 'plaintext'),
    version: num(obj, 'version'),
    range: normalizeRange(field(obj, 'range')),
    task: str(obj, 'task'),
    classKey: str(obj, 'classKey'),
    risk: Array.isArray(riskRaw) ? riskRaw.map(String) : [],
    rationale: str(obj, 'rationale'),
    original: str(obj, 'original'),
    proposed: str(obj, 'proposed'),
    hunks: Array.isArray(hunksRaw) ? hunksRaw.map(normalizeHunk) : [],
    model: str(obj, 'model'),
    role: str(obj, 'role'),
    adapterVersion: strOrNull(obj, 'adapterVersion'),
    state: str(obj, 'state', 'pending'),
    createdAt: str(obj, 'createdAt'),
  };
}

export function normalizeDecision(raw: unknown): DecisionView {
  if (!isObject(raw)) {
    throw new ContractError('a decision is not an object');
  }
  // tether/decisionRecorded may wrap the row: {record: {...}} or {decision: {...}}.
  const inner = isObject(raw.record) ? raw.record : isObject(raw.decision) ? raw.decision : raw;
  const hunks = field(inner, 'hunks');
  return {
    seq: num(inner, 'seq') ?? 0,
    ts: str(inner, 'ts'),
    outcome: str(inner, 'outcome'),
    actor: str(inner, 'actor'),
    proposalId: strOrNull(inner, 'proposalId'),
    classKey: strOrNull(inner, 'classKey'),
    path: strOrNull(inner, 'path'),
    uri: strOrNull(inner, 'uri'),
    model: strOrNull(inner, 'model'),
    adapterVersion: strOrNull(inner, 'adapterVersion'),
    reason: strOrNull(inner, 'reason'),
    before: strOrNull(inner, 'before'),
    after: strOrNull(inner, 'after'),
    hunks: Array.isArray(hunks) ? hunks.filter((h): h is number => typeof h === 'number') : null,
  };
}

export function normalizeHistory(raw: unknown, query?: HistoryQuery): HistoryPageView {
  if (!isObject(raw) || !Array.isArray(raw.items)) {
    throw new ContractError('tether/history did not answer with {items, total}');
  }
  const items = raw.items.map(normalizeDecision);
  return {
    items,
    total: num(raw, 'total') ?? items.length,
    offset: num(raw, 'offset') ?? query?.offset ?? 0,
    limit: num(raw, 'limit') ?? query?.limit ?? items.length,
  };
}

/** The `tether/history` params for a panel query: the store's `HistoryFilter` keys. */
export function historyParams(query: HistoryQuery): {
  offset: number;
  limit: number;
  filter: Record<string, unknown>;
} {
  const filter: Record<string, unknown> = {};
  const search = query.search?.trim();
  if (search) {
    filter.search = search;
  }
  if (query.outcome) {
    filter.outcome = [query.outcome];
  }
  if (query.actor) {
    filter.actor = query.actor;
  }
  const classKey = query.classKey?.trim();
  if (classKey) {
    filter.classKey = classKey;
  }
  const path = query.path?.trim();
  if (path) {
    filter.path = path;
  }
  return {
    offset: Math.max(0, Math.floor(query.offset)),
    limit: Math.max(1, Math.floor(query.limit)),
    filter,
  };
}

function normalizeClass(raw: unknown): ClassView {
  if (!isObject(raw)) {
    throw new ContractError('a profile class is not an object');
  }
  const policy = field(raw, 'policy');
  const pol = isObject(policy) ? policy : {};
  const mode = typeof policy === 'string' ? policy : (strOrNull(pol, 'mode') ?? strOrNull(raw, 'mode'));
  const stats = isObject(field(raw, 'stats')) ? (field(raw, 'stats') as Json) : raw;
  return {
    classKey: str(raw, 'classKey') || str(stats, 'classKey'),
    n: num(stats, 'n') ?? 0,
    mean: num(stats, 'mean'),
    lower: num(stats, 'lower'),
    upper: num(stats, 'upper'),
    credibleMass: num(stats, 'credibleMass'),
    mode,
    reason: strOrNull(pol, 'reason') ?? strOrNull(raw, 'reason'),
    mature: typeof field(stats, 'mature') === 'boolean' ? (field(stats, 'mature') as boolean) : null,
    pinned: strOrNull(raw, 'pin') ?? strOrNull(raw, 'pinned'),
    accepts: num(stats, 'accepts'),
    rejects: num(stats, 'rejects'),
  };
}

function normalizeAdapter(raw: unknown): AdapterView {
  if (!isObject(raw)) {
    throw new ContractError('an adapter is not an object');
  }
  const metricsRaw = field(raw, 'metrics');
  const metrics: AdapterView['metrics'] = {};
  if (isObject(metricsRaw)) {
    for (const [k, v] of Object.entries(metricsRaw)) {
      if (v === null || ['number', 'string', 'boolean'].includes(typeof v)) {
        metrics[k] = v as number | string | boolean | null;
      }
    }
  }
  return {
    version: str(raw, 'version'),
    status: str(raw, 'status'),
    createdAt: strOrNull(raw, 'createdAt'),
    parent: strOrNull(raw, 'parent'),
    metrics,
  };
}

const TERMINAL_TRAINING = new Set(['done', 'error', 'failed', 'cancelled', 'canceled', 'refused', 'promoted', 'skipped', 'finished']);

/** Server states that mean a job is under way (TrainingManager's states and worker events). */
const RUNNING_TRAINING = new Set(['running', 'started', 'start', 'progress', 'preparing', 'loading', 'training', 'evaluating', 'saving', 'promoting', 'cancelling']);

export const IDLE_TRAINING: TrainingView = {
  state: 'idle',
  phase: null,
  step: null,
  total: null,
  message: null,
  adapterVersion: null,
  lastResult: null,
};

function normalizeResult(raw: unknown): TrainingResultView | null {
  if (!isObject(raw)) {
    return null;
  }
  const status = strOrNull(raw, 'status');
  return status === null ? null : { status, reason: strOrNull(raw, 'reason'), version: strOrNull(raw, 'version') };
}

/** A `tether/trainingStatus` payload, the `training` of `tether/profile`, or a trainNow answer. */
export function normalizeTraining(raw: unknown): TrainingView {
  if (!isObject(raw)) {
    return { ...IDLE_TRAINING };
  }
  const inner = isObject(raw.status) ? raw.status : raw;
  let state = strOrNull(inner, 'state') ?? strOrNull(inner, 'event');
  if (state === null) {
    state = field(inner, 'running') === true || field(raw, 'started') === true ? 'running' : 'idle';
  }
  let phase = strOrNull(inner, 'phase');
  if (RUNNING_TRAINING.has(state)) {
    if (phase === null && state !== 'running' && state !== 'progress' && state !== 'started' && state !== 'start') {
      phase = state;
    }
    state = 'running';
  }
  const lastResult = normalizeResult(field(inner, 'lastResult'));
  return {
    state,
    phase,
    step: num(inner, 'step'),
    total: num(inner, 'total'),
    message: strOrNull(inner, 'message'),
    adapterVersion: strOrNull(inner, 'adapterVersion') ?? strOrNull(inner, 'version') ?? lastResult?.version ?? null,
    lastResult,
  };
}

export function isTrainingTerminal(t: TrainingView): boolean {
  return TERMINAL_TRAINING.has(t.state);
}

/** Fraction done (0..1), or null when the server gave no step counts. */
export function trainingFraction(t: TrainingView): number | null {
  if (t.step === null || !t.total) {
    return null;
  }
  return Math.min(1, Math.max(0, t.step / t.total));
}

export function normalizeProfile(raw: unknown): ProfileView {
  if (!isObject(raw)) {
    throw new ContractError('tether/profile did not answer with {classes, adapters, training}');
  }
  const classesRaw = field(raw, 'classes');
  const adaptersRaw = field(raw, 'adapters');
  const classes = Array.isArray(classesRaw)
    ? classesRaw.map(normalizeClass)
    : isObject(classesRaw)
      ? Object.entries(classesRaw).map(([k, v]) => ({ ...normalizeClass({ classKey: k, ...(v as Json) }) }))
      : [];
  const adapters = Array.isArray(adaptersRaw) ? adaptersRaw.map(normalizeAdapter) : [];
  const activeRaw = field(raw, 'activeAdapter');
  const active =
    typeof activeRaw === 'string'
      ? activeRaw
      : isObject(activeRaw)
        ? str(activeRaw, 'version') || null
        : (adapters.find((a) => a.status === 'active')?.version ?? null);
  return {
    classes,
    adapters,
    training: normalizeTraining(field(raw, 'training')),
    activeAdapter: active,
    production: isObject(raw.production) ? (raw.production as unknown as Wire.ProductionCountsView) : null,
    savings: isObject(raw.savings) ? (raw.savings as unknown as Wire.SavingsView) : null,
  };
}

/** The proposal ids a `tether.propose` answer names. */
export function proposalIdsOf(raw: unknown): string[] {
  if (Array.isArray(raw)) {
    return raw.map(String);
  }
  if (isObject(raw)) {
    const ids = field(raw, 'proposalIds');
    if (Array.isArray(ids)) {
      return ids.map(String);
    }
  }
  return [];
}

/** The proposals of a `tether.propose` answer that wait for the user (not auto-applied or suppressed). */
export function shownIdsOf(raw: unknown): string[] {
  if (isObject(raw) && Array.isArray(raw.shown)) {
    return raw.shown.map(String);
  }
  return proposalIdsOf(raw);
}

/** The proposal id a diagnostic's `data` carries: a bare id, or `{proposalId}`. */
export function proposalIdOfData(data: unknown): string | null {
  if (typeof data === 'string' && data) {
    return data;
  }
  if (isObject(data)) {
    const id = field(data, 'proposalId') ?? data.id;
    return typeof id === 'string' && id ? id : null;
  }
  return null;
}

/** The first argument of a server command, as an object (the contract passes one). */
export function commandPayload(args: unknown[]): Json {
  const first = args[0];
  return isObject(first) ? first : {};
}
