/**
 * Admission control for worker sessions, server-wide: handshakes are admitted at the rate the server can verify
 * (a bucket holding one second of them). An opener that finds the bucket empty waits in a short queue for its
 * turn (its upgrade answered when a token comes, in arrival order) rather than being sent away: a reconnect storm
 * is then served at the paced rate with no opener losing a round trip and a whole Retry-After to a token that
 * arrives milliseconds later. Past the queue (`queueSeconds` of handshakes), an opener is refused and told when to
 * come back: after the queue has drained, spread over as many seconds as the refused demand needs at that rate,
 * so a fleet reconnecting at once after a restart returns at about the admitted rate instead of all together
 * again (600,000 devices at 2,000/s are spread over up to `maxWaitSeconds` and retried in turns).
 */
export interface HandshakePacer {
  /**
   * Admits one handshake: now (`delayMs` 0), after `delayMs` (its place in the queue; the caller holds the opener
   * that long), or not at all with how many seconds to wait (a Retry-After).
   */
  admit(nowMs: number): { admitted: true; delayMs: number } | { admitted: false; retryAfterSeconds: number };
  /** Openers admitted (queued ones among them) and refused so far (metrics, tests). */
  stats(): { admitted: number; queued: number; refused: number };
}

/** The longest Retry-After a paced opener is given (a fleet of 600,000 at 2,000/s is spread over this). */
export const ADMISSION_MAX_WAIT_SECONDS = 120;

/**
 * Seconds of handshakes an opener may wait for its turn in the queue. A worker gives a server 10 s to answer its
 * upgrade (worker-agent.ts's handshakeTimeout); a queue of 3 s leaves room for a starting server's hold
 * (http/early-listener.ts) before it.
 */
export const ADMISSION_QUEUE_SECONDS = 3;

export interface HandshakePacerOptions {
  /** Handshakes admitted per second (and at most this many at once, after a quiet second). */
  perSecond: number;
  /** The longest wait a refusal asks for. */
  maxWaitSeconds: number;
  /** Seconds of handshakes that may wait in the queue for their turn (0: none wait, past the bucket all are refused). */
  queueSeconds?: number;
  /** Picks the wait within the spread (tests pass a fixed one). */
  random?: () => number;
}

export function createHandshakePacer(options: HandshakePacerOptions, nowMs: number): HandshakePacer {
  const { perSecond, maxWaitSeconds } = options;
  const queueMs = (options.queueSeconds ?? 0) * 1000;
  const random = options.random ?? Math.random;
  // A bucket of one second of handshakes whose level may go below zero by the queue's reservations: at level L < 1
  // the next opener's token arrives in (1 - L) / perSecond seconds, and taking it lowers the level for the next.
  let level = perSecond;
  let updatedMs = nowMs;
  let admitted = 0;
  let queued = 0;
  let refused = 0;
  // Refusals in the current and the previous whole second: the demand the waits must spread out.
  let second = Math.floor(nowMs / 1000);
  let refusedThisSecond = 0;
  let refusedLastSecond = 0;
  return {
    admit(now) {
      if (now > updatedMs) {
        level = Math.min(perSecond, level + ((now - updatedMs) * perSecond) / 1000);
        updatedMs = now;
      }
      const delayMs = level >= 1 ? 0 : ((1 - level) * 1000) / perSecond;
      if (delayMs <= queueMs) {
        level -= 1;
        admitted++;
        if (delayMs > 0) queued++;
        return { admitted: true, delayMs: Math.ceil(delayMs) };
      }
      const s = Math.floor(now / 1000);
      if (s !== second) {
        refusedLastSecond = s === second + 1 ? refusedThisSecond : 0;
        refusedThisSecond = 0;
        second = s;
      }
      refused++;
      refusedThisSecond++;
      const demand = Math.max(refusedThisSecond, refusedLastSecond);
      const spread = Math.max(1, Math.ceil(demand / perSecond));
      // Come back once the queue ahead has drained, at a second picked within the spread.
      const drained = Math.ceil(delayMs / 1000);
      return {
        admitted: false,
        retryAfterSeconds: Math.min(maxWaitSeconds, drained + Math.floor(random() * spread)),
      };
    },
    stats: () => ({ admitted, queued, refused }),
  };
}
