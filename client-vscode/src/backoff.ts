/**
 * When to restart a crashed server: exponential backoff that forgives a server which ran
 * for a while, and gives up on one that keeps dying at start (a broken install restarting
 * forever would only bury the one useful error). No `vscode` import.
 */

export interface BackoffOptions {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** A run at least this long resets the backoff: the crash was not a start-up failure. */
  stableMs: number;
  /** Consecutive quick crashes before giving up. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 500,
  factor: 2,
  maxMs: 30_000,
  stableMs: 60_000,
  maxAttempts: 6,
};

export class Backoff {
  private attempts = 0;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {}

  /**
   * The delay before the next restart, given how long the last run lasted; undefined
   * means stop restarting.
   */
  next(ranForMs: number): number | undefined {
    if (ranForMs >= this.options.stableMs) {
      this.attempts = 0;
    }
    if (this.attempts >= this.options.maxAttempts) {
      return undefined;
    }
    const delay = Math.min(this.options.maxMs, this.options.initialMs * this.options.factor ** this.attempts);
    this.attempts += 1;
    return delay;
  }

  get attemptCount(): number {
    return this.attempts;
  }

  reset(): void {
    this.attempts = 0;
  }
}
