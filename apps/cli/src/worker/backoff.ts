/**
 * Reconnect delays: exponential with "full jitter" (a random delay up to the exponential cap, never below half
 * the base), so a fleet cut off at once does not come back at once.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs = 500,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt. */
  next(): number {
    const cap = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.max(this.baseMs / 2, Math.round(this.random() * cap));
  }

  /** A session was established: start again from the base. */
  reset(): void {
    this.attempt = 0;
  }
}
