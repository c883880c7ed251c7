import { IgnisError } from "@ignis/protocol";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/** The budget classes; each has its own limiter so a flood of one kind cannot starve another. */
export const RATE_CLASSES = ["read", "write", "auth", "enroll", "heartbeat", "explorer", "signin"] as const;
export type RateClass = (typeof RATE_CLASSES)[number];

/** A budget: points per window. */
export interface Budget {
  points: number;
  durationSeconds: number;
}

/** Points per window per credential (an API key, a token subject or a device), for each class. */
export const DEFAULT_BUDGETS: Record<RateClass, Budget> = {
  read: { points: 600, durationSeconds: 60 },
  write: { points: 120, durationSeconds: 60 },
  auth: { points: 20, durationSeconds: 60 },
  // A supplier onboarding a rack issues a code per GPU; codes are single-use, so the budget only paces.
  enroll: { points: 600, durationSeconds: 60 },
  heartbeat: { points: 10, durationSeconds: 10 },
  explorer: { points: 300, durationSeconds: 60 },
  // Failed sign-ins per (e-mail, client address): sign-in-throttle.ts adds growing delays past the first few.
  signin: { points: 10, durationSeconds: 900 },
};

/**
 * Points per window per source IP. Wider than the per-credential budgets for reads, writes and heartbeats,
 * because an office NAT or a GPU farm puts many honest credentials behind one address; the same for failed
 * authentication and anonymous explorer reads, where the IP is the only handle on the caller.
 */
export const IP_BUDGETS: Record<RateClass, Budget> = {
  read: { points: 3000, durationSeconds: 60 },
  write: { points: 600, durationSeconds: 60 },
  auth: { points: 20, durationSeconds: 60 },
  // Redeeming needs an 80-bit single-use code that lives 15 minutes, so guessing gains nothing from a wider budget; failed
  // redemptions are 401s, which the refusal-burst rule watches.
  enroll: { points: 1200, durationSeconds: 60 },
  heartbeat: { points: 2000, durationSeconds: 10 },
  explorer: { points: 300, durationSeconds: 60 },
  signin: { points: 30, durationSeconds: 900 },
};

/** Makes one limiter; the name is unique per limiter and becomes its key prefix in a shared store. */
export type LimiterFactory = (name: string, points: number, durationSeconds: number) => RateLimiterAbstract;

/** Per-credential and per-IP budgets, plus temporary blocks of an IP; in memory or in a shared store. */
export interface RateLimits {
  /**
   * Spends points of a class for a key (`ip:<addr>` keys use the per-IP budgets, all others the
   * per-credential ones); throws `rate_limited` with the seconds to wait. Returns the points the key has spent
   * in the current window (0 when budgets are off).
   */
  consume(rateClass: RateClass, key: string, points?: number): Promise<number>;
  /** Throws `rate_limited` when the key has already spent its budget, without spending anything. */
  check(rateClass: RateClass, key: string): Promise<void>;
  /** Refuses every request of the key for some seconds (automatic containment); works even when budgets are off. */
  block(key: string, seconds: number): Promise<void>;
  /** Lifts a block early (an admin released the alert). */
  unblock(key: string): Promise<void>;
  /** Seconds left on a block of the key, 0 when it is not blocked. */
  blockedFor(key: string): Promise<number>;
}

/** The in-memory limiter factory of a single replica. */
export const memoryLimiters: LimiterFactory = (name, points, duration) =>
  new RateLimiterMemory({ keyPrefix: name, points, duration });

function rateLimited(rateClass: string, msBeforeNext: number): IgnisError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new IgnisError("rate_limited", `too many ${rateClass} requests; retry later`, {
    details: { retryAfterSeconds },
  });
}

// A shared store being down refuses with 503 rather than letting an unlimited flood through.
function storeDown(error: unknown): IgnisError {
  return new IgnisError("unavailable", "rate limit store unavailable", { cause: error });
}

/** Builds rate limits over a limiter factory (memory by default; Redis or PostgreSQL for replicas). */
export function createRateLimits(
  options: {
    enabled?: boolean;
    budgets?: Partial<Record<RateClass, Budget>>;
    ipBudgets?: Partial<Record<RateClass, Budget>>;
    makeLimiter?: LimiterFactory;
  } = {},
): RateLimits {
  const enabled = options.enabled ?? true;
  const make = options.makeLimiter ?? memoryLimiters;
  const perCredential = new Map<RateClass, RateLimiterAbstract>();
  const perIp = new Map<RateClass, RateLimiterAbstract>();
  for (const [name, b] of Object.entries({ ...DEFAULT_BUDGETS, ...options.budgets }) as [RateClass, Budget][])
    perCredential.set(name, make(name, b.points, b.durationSeconds));
  for (const [name, b] of Object.entries({ ...IP_BUDGETS, ...options.ipBudgets }) as [RateClass, Budget][])
    perIp.set(name, make(`ip-${name}`, b.points, b.durationSeconds));
  // One point per window: `block` pushes a key far over it for the block's duration.
  const blocks = make("blocked", 1, 1);
  const limiterFor = (rateClass: RateClass, key: string) =>
    (key.startsWith("ip:") ? perIp : perCredential).get(rateClass)!;

  return {
    async consume(rateClass, key, points = 1) {
      if (!enabled) return 0;
      try {
        return (await limiterFor(rateClass, key).consume(key, points)).consumedPoints;
      } catch (error) {
        if (error instanceof RateLimiterRes) throw rateLimited(rateClass, error.msBeforeNext);
        throw storeDown(error);
      }
    },
    async check(rateClass, key) {
      if (!enabled) return;
      const limiter = limiterFor(rateClass, key);
      const res = await limiter.get(key).catch((error: unknown) => {
        throw storeDown(error);
      });
      if (res && res.consumedPoints >= limiter.points) throw rateLimited(rateClass, res.msBeforeNext);
    },
    async block(key, seconds) {
      await blocks.block(key, seconds).catch((error: unknown) => {
        throw storeDown(error);
      });
    },
    async unblock(key) {
      await blocks.delete(key).catch((error: unknown) => {
        throw storeDown(error);
      });
    },
    async blockedFor(key) {
      const res = await blocks.get(key).catch((error: unknown) => {
        throw storeDown(error);
      });
      return res && res.consumedPoints > blocks.points ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
    },
  };
}
