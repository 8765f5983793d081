/**
 * Per-hunk decisions while a proposal is open in the diff view.
 *
 * The server takes one verdict per proposal (accept with a subset of hunks, or reject), so
 * the diff view collects the user's hunk-by-hunk choices here and turns them into that one
 * verdict once every hunk is decided, or when the user presses Accept / Reject for the rest.
 * No `vscode` import.
 */

export type HunkDecision = 'pending' | 'accepted' | 'rejected';

/** `reason`: the user's words for the hunks they rejected (training signal). */
export type Verdict = { kind: 'accept'; hunks?: number[]; reason?: string } | { kind: 'reject'; reason?: string };

export class ReviewState {
  private readonly decisions = new Map<number, HunkDecision>();
  private readonly reasons = new Map<number, string>();

  /** `hunkIndices`: the proposal's hunk indices; a proposal without hunks counts as hunk 0. */
  constructor(hunkIndices: readonly number[]) {
    const indices = hunkIndices.length > 0 ? hunkIndices : [0];
    for (const i of indices) {
      this.decisions.set(i, 'pending');
    }
  }

  get indices(): number[] {
    return [...this.decisions.keys()].sort((a, b) => a - b);
  }

  decision(index: number): HunkDecision {
    const d = this.decisions.get(index);
    if (d === undefined) {
      throw new RangeError(`no hunk ${index} in this proposal`);
    }
    return d;
  }

  /** `reason`: why a rejected hunk was rejected (optional). */
  decide(index: number, decision: Exclude<HunkDecision, 'pending'>, reason?: string): void {
    this.decision(index);
    this.decisions.set(index, decision);
    if (decision === 'rejected' && reason?.trim()) {
      this.reasons.set(index, reason.trim());
    } else {
      this.reasons.delete(index);
    }
  }

  undo(index: number): void {
    this.decision(index);
    this.decisions.set(index, 'pending');
    this.reasons.delete(index);
  }

  /** The rejected hunks' reasons as one line ("hunk 2: too clever"), or undefined. */
  get reason(): string | undefined {
    const parts = this.indices
      .filter((i) => this.decisions.get(i) === 'rejected' && this.reasons.has(i))
      .map((i) => (this.decisions.size > 1 ? `hunk ${i + 1}: ${this.reasons.get(i)}` : `${this.reasons.get(i)}`));
    return parts.length ? parts.join('; ') : undefined;
  }

  /** Hunks the proposed side shows: every hunk not rejected. */
  get shown(): Set<number> {
    return new Set(this.indices.filter((i) => this.decisions.get(i) !== 'rejected'));
  }

  get complete(): boolean {
    return this.indices.every((i) => this.decisions.get(i) !== 'pending');
  }

  /** The verdict once every hunk is decided; undefined while some are pending. */
  settled(): Verdict | undefined {
    return this.complete ? this.verdictFor(this.indices.filter((i) => this.decisions.get(i) === 'accepted')) : undefined;
  }

  /** "Accept" for the whole diff: every hunk not explicitly rejected. */
  acceptRest(): Verdict {
    return this.verdictFor(this.indices.filter((i) => this.decisions.get(i) !== 'rejected'));
  }

  private verdictFor(accepted: number[]): Verdict {
    const reason = this.reason;
    const withReason = <T extends Verdict>(v: T): T => (reason ? { ...v, reason } : v);
    if (accepted.length === 0) {
      return withReason({ kind: 'reject' });
    }
    if (accepted.length === this.decisions.size) {
      return { kind: 'accept' };
    }
    return withReason({ kind: 'accept', hunks: accepted });
  }

  /** A one-line summary for the diff title and status messages. */
  summary(): string {
    const counts = { accepted: 0, rejected: 0, pending: 0 };
    for (const d of this.decisions.values()) {
      counts[d] += 1;
    }
    const total = this.decisions.size;
    if (total === 1) {
      return counts.pending ? '1 change' : `1 change, ${counts.accepted ? 'accepted' : 'rejected'}`;
    }
    const parts = [`${total} hunks`];
    if (counts.accepted) {
      parts.push(`${counts.accepted} accepted`);
    }
    if (counts.rejected) {
      parts.push(`${counts.rejected} rejected`);
    }
    return parts.join(', ');
  }
}
