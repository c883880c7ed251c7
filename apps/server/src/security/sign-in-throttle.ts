import { IgnisError } from "@ignis/protocol";
import type { RateLimits } from "./rate-limits.js";

/** Tuning of the sign-in throttle. */
export interface SignInThrottleOptions {
  /** Failures of one (e-mail, client) pair before delays start. */
  freeFailures: number;
  /** The longest delay one pair waits after a failure. */
  maxDelaySeconds: number;
}

/** Defaults: three free failures, then 1, 2, 4, ... seconds, at most 15 minutes. */
export const SIGN_IN_THROTTLE_DEFAULTS: SignInThrottleOptions = { freeFailures: 3, maxDelaySeconds: 900 };

/** Paces password sign-ins without letting anyone lock a user out from elsewhere. */
export interface SignInThrottle {
  /** Throws `rate_limited` while this (e-mail, client) pair waits out a delay or the client spent its budget. */
  before(email: string, clientIp: string): Promise<void>;
  /** Records a failure of the pair; past the free ones, the pair waits a delay that doubles each time. */
  failed(email: string, clientIp: string): Promise<void>;
  /** Ends the pair's current delay after a success. */
  succeeded(email: string, clientIp: string): Promise<void>;
}

const pairKey = (email: string, ip: string) => `signin:${email.trim().toLowerCase()}|${ip}`;

/**
 * Budgets per (e-mail, client address), with growing delays, plus the client address's own `auth` budget. There
 * is deliberately no budget per e-mail alone: anyone could spend it and lock the owner of the address out. A
 * guesser spreading over many addresses is paced per address and caught by the refusal-burst rule instead.
 */
export function createSignInThrottle(
  limits: RateLimits,
  options: Partial<SignInThrottleOptions> = {},
): SignInThrottle {
  const o = { ...SIGN_IN_THROTTLE_DEFAULTS, ...options };
  return {
    async before(email, clientIp) {
      const waiting = await limits.blockedFor(pairKey(email, clientIp));
      if (waiting > 0) {
        throw new IgnisError("rate_limited", "too many failed sign-ins; wait before trying again", {
          details: { retryAfterSeconds: waiting },
        });
      }
      await limits.consume("auth", `ip:${clientIp}`);
    },
    async failed(email, clientIp) {
      const key = pairKey(email, clientIp);
      let failures: number;
      try {
        failures = await limits.consume("signin", key);
      } catch (error) {
        // The pair spent its whole window's budget: it waits the longest delay.
        if (error instanceof IgnisError && error.code === "rate_limited") {
          await limits.block(key, o.maxDelaySeconds);
          return;
        }
        throw error;
      }
      if (failures > o.freeFailures) {
        await limits.block(key, Math.min(2 ** (failures - o.freeFailures - 1), o.maxDelaySeconds));
      }
    },
    async succeeded(email, clientIp) {
      await limits.unblock(pairKey(email, clientIp));
    },
  };
}
