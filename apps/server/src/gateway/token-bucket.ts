/**
 * A token bucket in three numbers: per-session throttles for heartbeats, metadata updates and frames in
 * general, so one flooding device spends only its own budget.
 */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  /** `capacity` tokens at most, refilled at `perSecond`. */
  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.updatedMs = nowMs;
  }

  /** Takes one token when there is one; false means the caller is over its rate. */
  take(nowMs: number): boolean {
    const elapsed = nowMs - this.updatedMs;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSecond) / 1000);
      this.updatedMs = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
