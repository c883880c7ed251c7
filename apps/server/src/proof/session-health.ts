import type { ChallengeSize } from "@ignis/protocol/proof";

/** What watching a session's health during a challenge needs. */
export interface SessionHealthOptions {
  readonly now: () => number;
  /** Pings the device's session: resolves when it answers (true) or gives up after `timeoutMs` (false). */
  readonly probe: (timeoutMs: number) => Promise<boolean>;
  /** How often to probe (and to check the server's own timer lag). */
  readonly everyMs: number;
  /** The session's usual round trip, which a healthy answer takes anyway. */
  readonly baselineRttMs: number;
}

/** The longest time the session or the server was seen unresponsive since the watch began. */
export interface SessionHealth {
  /** Milliseconds of the longest stall seen so far (a probe still unanswered counts at its age). */
  stallMs(): number;
  stop(): void;
}

/** A probe unanswered this long has shown all the stall it can (the deadline ends the exchange long before). */
const PROBE_TIMEOUT_MS = 60_000;

/**
 * Watches a session while it computes a proof, to tell a slow host from a slow GPU. A GPU computing, however
 * slowly, leaves the worker's event loop free, so it answers WebSocket pings at once; a stalled host (GC pause,
 * swapping, a busy CPU) answers late, and a stalled server fires its own timers late. Every `everyMs` the
 * watch measures how late its own timer fired and pings the session; the stall is the longest of those
 * lateness figures and of the ping waits beyond the baseline round trip (one ping is in flight at a time). The worker can only make the stall
 * look longer (by answering pings late), never shorter, which is why a stall may only excuse a late commit,
 * never pass one (verification-state.ts).
 */
export function watchSessionHealth(options: SessionHealthOptions): SessionHealth {
  const { now, everyMs, baselineRttMs } = options;
  const pending = new Set<number>();
  let worst = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const note = (waitedMs: number) => {
    worst = Math.max(worst, waitedMs);
  };
  const tick = (dueAtMs: number) => {
    if (stopped) return;
    const at = now();
    note(at - dueAtMs);
    // One ping at a time: an unanswered one already measures the stall by its age.
    if (pending.size === 0) probe(at);
    const next = at + everyMs;
    timer = setTimeout(() => tick(next), everyMs);
  };
  const probe = (at: number) => {
    pending.add(at);
    void options
      .probe(PROBE_TIMEOUT_MS)
      .catch(() => false)
      .then(() => {
        pending.delete(at);
        note(now() - at - baselineRttMs);
      });
  };
  tick(now());

  return {
    stallMs() {
      const at = now();
      let stall = worst;
      for (const sent of pending) stall = Math.max(stall, at - sent - baselineRttMs);
      return Math.max(0, Math.round(stall));
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** How often to probe during a challenge: four times per deadline, at most every 50 ms. */
export function probeIntervalMs(size: Pick<ChallengeSize, "deadlineMs">): number {
  return Math.max(50, Math.round(size.deadlineMs / 4));
}

/**
 * Whether a stall explains a late commit: it took at least half the slack an honest device had (deadline minus
 * expected time), or at least as long as the commit was late (`lateByMs`, when a commit arrived): without the
 * stall it would have been on time. A stall of S delays a commit by at least S, and a busy host slows the
 * computation more than it delays one ping, hence half. The thresholds bound only honest failures: whatever a
 * worker makes the stall look like, an excused commit is still not a pass.
 */
export function stallExcuses(
  size: Pick<ChallengeSize, "deadlineMs" | "expectedMs">,
  stallMs: number,
  lateByMs?: number,
): boolean {
  if (lateByMs !== undefined && lateByMs > 0 && stallMs >= lateByMs) return true;
  return stallMs >= Math.max(1, (size.deadlineMs - size.expectedMs) / 2);
}
