import { IgnisError } from "@ignis/protocol";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/** The budget classes; each has its own limiter so a flood of one kind cannot starve another. */
export type RateClass = "read" | "write" | "auth" | "enroll" | "heartbeat" | "explorer";

/** Points per window per key, for each class. */
export const DEFAULT_BUDGETS: Record<RateClass, { points: number; durationSeconds: number }> = {
  read: { points: 600, durationSeconds: 60 },
  write: { points: 120, durationSeconds: 60 },
  auth: { points: 20, durationSeconds: 60 },
  enroll: { points: 20, durationSeconds: 60 },
  heartbeat: { points: 10, durationSeconds: 10 },
  explorer: { points: 300, durationSeconds: 60 },
};

/** Per-credential and per-IP budgets; in memory by default, or shared limiters supplied for replicas. */
export interface RateLimits {
  /** Spends one point of a class for a key; throws `rate_limited` with the seconds to wait. */
  consume(rateClass: RateClass, key: string, points?: number): Promise<void>;
}

/** Builds rate limits from a limiter factory (memory here; Redis/PostgreSQL limiters plug in the same way). */
export function createRateLimits(
  options: {
    enabled?: boolean;
    budgets?: Partial<typeof DEFAULT_BUDGETS>;
    makeLimiter?: (name: RateClass, points: number, duration: number) => RateLimiterAbstract;
  } = {},
): RateLimits {
  const enabled = options.enabled ?? true;
  const make =
    options.makeLimiter ??
    ((name: RateClass, points: number, duration: number) =>
      new RateLimiterMemory({ keyPrefix: name, points, duration }));
  const limiters = new Map<RateClass, RateLimiterAbstract>();
  for (const [name, budget] of Object.entries({ ...DEFAULT_BUDGETS, ...options.budgets }) as [
    RateClass,
    { points: number; durationSeconds: number },
  ][]) {
    limiters.set(name, make(name, budget.points, budget.durationSeconds));
  }
  return {
    async consume(rateClass, key, points = 1) {
      if (!enabled) return;
      const limiter = limiters.get(rateClass)!;
      try {
        await limiter.consume(key, points);
      } catch (error) {
        if (error instanceof RateLimiterRes) {
          const retryAfterSeconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
          throw new IgnisError("rate_limited", `too many ${rateClass} requests; retry later`, {
            details: { retryAfterSeconds },
          });
        }
        // A shared store being down refuses with 503 rather than letting an unlimited flood through.
        throw new IgnisError("unavailable", "rate limit store unavailable", { cause: error });
      }
    },
  };
}
