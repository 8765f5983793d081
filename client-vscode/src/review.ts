/**
 * Per-hunk decisions while a proposal is open in the diff view.
 *
 * The server takes one verdict per proposal (accept with a subset of hunks, or reject), so
 * the diff view collects the user's hunk-by-hunk choices here and turns them into that one
 * verdict once every hunk is decided, or when the user presses Accept / Reject for the rest.
 * No `vscode` import.
 */

export type HunkDecision = 'pending' | 'accepted' | 'rejected';

export type Verdict = { kind: 'accept'; hunks?: number[] } | { kind: 'reject' };

export class ReviewState {
  private readonly decisions = new Map<number, HunkDecision>();

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

  decide(index: number, decision: Exclude<HunkDecision, 'pending'>): void {
    this.decision(index);
    this.decisions.set(index, decision);
  }

  undo(index: number): void {
    this.decision(index);
    this.decisions.set(index, 'pending');
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
    if (accepted.length === 0) {
      return { kind: 'reject' };
    }
    if (accepted.length === this.decisions.size) {
      return { kind: 'accept' };
    }
    return { kind: 'accept', hunks: accepted };
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
