/**
 * Words and small decisions the UI shows: the status bar text, whether a server prompt is
 * an approval that deserves a modal dialog, the summary of a verify or training result.
 * No `vscode` import.
 */

import { type TrainingView, trainingFraction } from './protocol';

export type ServerState = 'starting' | 'running' | 'restarting' | 'stopped' | 'failed';

export interface StatusInput {
  state: ServerState;
  pending: number;
  activeAdapter: string | null;
  training: TrainingView | null;
}

export interface StatusText {
  text: string;
  tooltip: string;
}

export function statusText(s: StatusInput): StatusText {
  const tooltip: string[] = [];
  let icon = '$(sparkle)';
  if (s.state === 'starting' || s.state === 'restarting') {
    icon = '$(sync~spin)';
    tooltip.push(s.state === 'starting' ? 'Tether server starting…' : 'Tether server restarting…');
  } else if (s.state === 'stopped' || s.state === 'failed') {
    icon = '$(error)';
    tooltip.push(s.state === 'failed' ? 'Tether server failed; see the Tether output' : 'Tether server stopped');
  }
  const parts = [`${icon} Tether`];
  if (s.pending > 0) {
    parts.push(`${s.pending} pending`);
  }
  tooltip.push(`${s.pending} pending suggestion${s.pending === 1 ? '' : 's'}`);
  if (s.activeAdapter) {
    parts.push(s.activeAdapter);
    tooltip.push(`Active adapter: ${s.activeAdapter}`);
  } else {
    tooltip.push('No trained adapter yet (base model)');
  }
  if (s.training && s.training.state === 'running') {
    const f = trainingFraction(s.training);
    parts.push(f === null ? '$(loading~spin) training' : `$(loading~spin) training ${Math.round(f * 100)}%`);
    tooltip.push(`Training: ${s.training.message ?? 'running'}`);
  }
  tooltip.push('Click to open the Tether panel');
  return { text: parts.join(' · '), tooltip: tooltip.join('\n') };
}

/** LSP MessageType numbers. */
export const MessageType = { Error: 1, Warning: 2, Info: 3, Log: 4 } as const;

export const APPROVAL_WORDS = ['approve', 'reject', 'always ask', 'explain'];

/** An approval prompt from the policy: its actions read Approve / Reject / Always ask / Explain. */
export function isApprovalPrompt(actions: readonly { title: string }[]): boolean {
  const titles = actions.map((a) => a.title.toLowerCase());
  return titles.some((t) => t.startsWith('approve')) && titles.some((t) => t.startsWith('reject'));
}

/**
 * Whether a `window/showMessageRequest` shows as a modal dialog: approval prompts for risky
 * actions (the server sends those as warnings or errors, or says "risky" in the message),
 * when the user has not turned modals off.
 */
export function wantsModal(
  params: { type: number; message: string; actions?: readonly { title: string }[] },
  modalForRisky: boolean,
): boolean {
  if (!modalForRisky || !params.actions || !isApprovalPrompt(params.actions)) {
    return false;
  }
  return params.type <= MessageType.Warning || /\brisk/i.test(params.message);
}

/**
 * The buttons of a prompt in a safe order: a dialog's first button is its default (Enter),
 * so an action that changes code (Approve, Apply, Accept) never comes first; a look at the
 * change (Explain, Show diff) does when there is one.
 */
export function safeOrder<T extends { title: string }>(actions: readonly T[]): T[] {
  const risky = (t: string) => /^(approve|apply|accept)/i.test(t.trim());
  const looks = (t: string) => /^(explain|show diff|review)/i.test(t.trim());
  return [
    ...actions.filter((a) => looks(a.title)),
    ...actions.filter((a) => !looks(a.title) && !risky(a.title)),
    ...actions.filter((a) => risky(a.title)),
  ];
}

/** Splits a prompt's message into a short title and the detail a modal shows under it. */
export function splitMessage(message: string): { title: string; detail?: string } {
  const trimmed = message.trim();
  const nl = trimmed.indexOf('\n');
  if (nl < 0) {
    return { title: trimmed };
  }
  const detail = trimmed.slice(nl + 1).trim();
  return detail ? { title: trimmed.slice(0, nl).trim(), detail } : { title: trimmed.slice(0, nl).trim() };
}

/** One line for the result of `tether.verify` (the store's VerifyResult, or a summary string). */
export function verifySummary(raw: unknown): { ok: boolean; text: string } {
  if (typeof raw === 'string') {
    return { ok: !/broken|fail/i.test(raw), text: raw };
  }
  if (typeof raw !== 'object' || raw === null) {
    return { ok: false, text: 'The server gave no verification result.' };
  }
  const r = raw as Record<string, unknown>;
  const rows = r.rows ?? r.count;
  if (r.ok === true) {
    const head = typeof (r.head_hash ?? r.headHash) === 'string' ? String(r.head_hash ?? r.headHash).slice(0, 12) : '';
    return { ok: true, text: `Audit log OK: ${rows ?? '?'} decisions, chain intact${head ? ` (head ${head})` : ''}.` };
  }
  const seq = r.first_broken_seq ?? r.firstBrokenSeq;
  const kind = r.kind ? `${String(r.kind)}: ` : '';
  const detail = r.detail ? String(r.detail) : 'the hash chain does not match';
  return { ok: false, text: `Audit log BROKEN at row ${seq ?? '?'}: ${kind}${detail}` };
}

/** One line saying how a training run ended (state: a ResultStatus, or done / error). */
export function trainingOutcomeText(t: TrainingView): string {
  const version = t.adapterVersion ? `adapter ${t.adapterVersion}` : 'a new adapter';
  const why = t.message ? ` (${t.message})` : '';
  switch (t.state) {
    case 'done':
    case 'finished':
    case 'promoted':
      return `Tether trained ${version}; it is now active${why}.`;
    case 'refused':
      return `Tether trained ${version} but kept the active one${why}.`;
    case 'skipped':
      return `Tether did not train${why}.`;
    case 'cancelled':
    case 'canceled':
      return 'Tether training cancelled.';
    default:
      return `Tether training failed${why || ': see the Tether output'}.`;
  }
}

/** "3 s ago"-free, locale-stable time for tables: YYYY-MM-DD HH:MM:SS (local time). */
export function shortTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) {
    return iso;
  }
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * Which student model to suggest for this machine, in one sentence for the welcome view.
 * The embedded 135M model is for trying Tether offline; real work wants a bigger student:
 * one Ollama already has, else one that fits the memory.
 */
export function modelHint(current: string, memoryGiB: number, ollamaModels: readonly string[]): string {
  const embedded = !current || current.startsWith('embedded:');
  const coder = ollamaModels.find((m) => /coder|code/i.test(m)) ?? ollamaModels[0];
  const size = memoryGiB >= 30 ? '14b' : memoryGiB >= 14 ? '7b' : memoryGiB >= 7 ? '3b' : '1.5b';
  const suggestion = coder
    ? `ollama:${coder} (already pulled in Ollama)`
    : `ollama:qwen2.5-coder:${size} (fits ${Math.round(memoryGiB)} GB of memory; pull it with Ollama first)`;
  if (embedded) {
    return `The embedded 135M model is for trying Tether offline. For real work set tether.model to ${suggestion}.`;
  }
  return `The student model is ${current}.`;
}
