import { TokenBucket } from "./token-bucket.js";

/**
 * Admission control for worker sessions, server-wide: handshakes are admitted at the rate the server can verify
 * (a token bucket holding one second of them), and each refused opener is told when to come back. The wait is
 * spread over as many seconds as the refused demand needs at that rate, so a fleet reconnecting at once after a
 * restart returns at about the admitted rate instead of all together again: with 600,000 devices and 2,000/s,
 * openers are spread over up to `maxWaitSeconds` and retried in turns.
 */
export interface HandshakePacer {
  /** Admits one handshake now, or answers how many seconds to wait (a Retry-After). */
  admit(nowMs: number): { admitted: true } | { admitted: false; retryAfterSeconds: number };
  /** Admitted and refused openers so far (metrics, tests). */
  stats(): { admitted: number; refused: number };
}

/** The longest Retry-After a paced opener is given (a fleet of 600,000 at 2,000/s is spread over this). */
export const ADMISSION_MAX_WAIT_SECONDS = 120;

export interface HandshakePacerOptions {
  /** Handshakes admitted per second (and at most this many at once, after a quiet second). */
  perSecond: number;
  /** The longest wait a refusal asks for. */
  maxWaitSeconds: number;
  /** Picks the wait within the spread (tests pass a fixed one). */
  random?: () => number;
}

export function createHandshakePacer(options: HandshakePacerOptions, nowMs: number): HandshakePacer {
  const { perSecond, maxWaitSeconds } = options;
  const random = options.random ?? Math.random;
  const bucket = new TokenBucket(perSecond, perSecond, nowMs);
  let admitted = 0;
  let refused = 0;
  // Refusals in the current and the previous whole second: the demand the waits must spread out.
  let second = Math.floor(nowMs / 1000);
  let refusedThisSecond = 0;
  let refusedLastSecond = 0;
  return {
    admit(now) {
      const s = Math.floor(now / 1000);
      if (s !== second) {
        refusedLastSecond = s === second + 1 ? refusedThisSecond : 0;
        refusedThisSecond = 0;
        second = s;
      }
      if (bucket.take(now)) {
        admitted++;
        return { admitted: true };
      }
      refused++;
      refusedThisSecond++;
      const demand = Math.max(refusedThisSecond, refusedLastSecond);
      const spread = Math.min(maxWaitSeconds, Math.max(1, Math.ceil(demand / perSecond)));
      return { admitted: false, retryAfterSeconds: 1 + Math.floor(random() * spread) };
    },
    stats: () => ({ admitted, refused }),
  };
}
