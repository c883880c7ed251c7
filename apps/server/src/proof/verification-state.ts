import type { Verification } from "../../../../packages/protocol/src/devices.js";
import { cryptoRandom, type RandomSource } from "./random-source.js";
import type { ProofOutcome } from "./verify-reveal.js";

/** One finished challenge of a device. */
export interface ProofHistoryEntry {
  readonly outcome: ProofOutcome;
  readonly atMs: number;
  /** Why it did not pass (ProofFailureReason, or `session_closed`); `host_stall` does not count as a failure. */
  readonly reason?: string | null;
  /** Server-measured time to the commit; null when none arrived (a late one is awaited for a while). */
  readonly commitLatencyMs?: number | null;
  /** The challenge's commit deadline: a commit later than this was late itself (not a later phase). */
  readonly deadlineMs?: number;
  /**
   * Part of a group round (challenge-groups.ts) that counts as one: challenged together with its owner's or
   * address's devices. False for a pass in a round that left out a device of a round this one had missed
   * (round-coverage.ts): such a pass clears nothing.
   */
  readonly grouped?: boolean;
  /** The id of the group round it was part of, if any (whether or not the round counts). */
  readonly round?: string | null;
}

/** The reason of a late commit that a stall of the session or the server explains (session-health.ts). */
export const EXCUSED_REASON = "host_stall";

/** Timings of the verification life cycle. */
export interface VerificationPolicy {
  /** Wait before the one retry after a failure or timeout. */
  readonly retryDelayMs: number;
  /** Quarantine after the second consecutive failure; doubles with each further one. */
  readonly quarantineMs: number;
  readonly maxQuarantineMs: number;
  /**
   * Quarantine after this many consecutive late commits excused by a stall: a host stalled at every one of
   * several challenges at random times cannot serve, and a worker that fakes stalls must not be retried forever.
   */
  readonly maxExcusedStalls: number;
  /** A verified device is re-challenged at a uniformly random time in [recheckMinMs, recheckMaxMs]. */
  readonly recheckMinMs: number;
  readonly recheckMaxMs: number;
}

/**
 * Retry after 2 minutes, quarantine 24 h (doubling, at most 7 days) or after 5 excused stalls in a row,
 * re-challenge every 1–6 h.
 */
export const defaultVerificationPolicy: VerificationPolicy = {
  retryDelayMs: 2 * 60_000,
  quarantineMs: 24 * 3_600_000,
  maxQuarantineMs: 7 * 24 * 3_600_000,
  maxExcusedStalls: 5,
  recheckMinMs: 3_600_000,
  recheckMaxMs: 6 * 3_600_000,
};

/** What to do with a device after its latest challenge. */
export interface VerificationDecision {
  readonly state: Verification;
  /** True from the second consecutive failure: the device is taken out of rewards and scheduling. */
  readonly quarantine: boolean;
  /** Failures since the last pass that count (late commits excused by a stall do not). */
  readonly consecutiveFailures: number;
  /** Late commits since the last pass that a stall excused. */
  readonly excusedStalls: number;
  /**
   * The streak includes a group round the device did not pass: only a pass in a group round clears it, so its
   * retry is issued as one (one GPU posing as several devices cannot pass a round for all of them).
   */
  readonly groupBound: boolean;
  /** When to send the next challenge (retry, end of quarantine or random re-check). */
  readonly nextChallengeAtMs: number;
}

/**
 * Retry once, then quarantine: a pass verifies; the first failure (fail or timeout alike) makes the device
 * unverified and schedules one retry; a second consecutive failure marks it failed and quarantines it until
 * the (doubling) quarantine ends and a fresh challenge may clear it. A late commit that a stall of the session
 * or the server explains (`host_stall`) also makes the device unverified and is retried, but does not count
 * towards the two failures: a slow host is not a slow GPU. Each further one in a row doubles the wait before
 * the next retry, and only `maxExcusedStalls` of them in a row are tolerated, so a worker that fakes stalls is
 * never verified by them and still ends quarantined. A streak that includes a group round is cleared only by a
 * pass in a group round (see {@link currentStreak}). Pure apart
 * from `random`, which spreads re-checks so a worker cannot predict them. `history` is in time order.
 */
export function nextVerificationState(
  history: readonly ProofHistoryEntry[],
  nowMs: number,
  policy: VerificationPolicy = defaultVerificationPolicy,
  random: RandomSource = cryptoRandom,
): VerificationDecision {
  const last = history.at(-1);
  if (!last)
    return {
      state: "unverified",
      quarantine: false,
      consecutiveFailures: 0,
      excusedStalls: 0,
      groupBound: false,
      nextChallengeAtMs: nowMs,
    };
  const { failures, excused, groupBound } = currentStreak(history);
  if (failures === 0 && excused === 0) {
    const b = random(4);
    const u = (b[0] + b[1] * 2 ** 8 + b[2] * 2 ** 16 + b[3] * 2 ** 24) / 2 ** 32;
    const nextChallengeAtMs =
      last.atMs + policy.recheckMinMs + Math.floor(u * (policy.recheckMaxMs - policy.recheckMinMs));
    return {
      state: "verified",
      quarantine: false,
      consecutiveFailures: 0,
      excusedStalls: 0,
      groupBound: false,
      nextChallengeAtMs,
    };
  }
  const counts = { consecutiveFailures: failures, excusedStalls: excused, groupBound };
  if (failures < 2 && excused < policy.maxExcusedStalls) {
    return {
      state: "unverified",
      quarantine: false,
      ...counts,
      // Stalls that go on are given room: each further one in a row doubles the wait before the next retry.
      nextChallengeAtMs: last.atMs + policy.retryDelayMs * 2 ** Math.min(Math.max(0, excused - 1), 8),
    };
  }
  const doublings = Math.max(failures - 2, excused - policy.maxExcusedStalls, 0);
  const quarantineMs = Math.min(policy.maxQuarantineMs, policy.quarantineMs * 2 ** Math.min(doublings, 16));
  return {
    state: "failed",
    quarantine: true,
    ...counts,
    nextChallengeAtMs: last.atMs + quarantineMs,
  };
}

/**
 * The device's current streak of challenges not passed, oldest first, counted as the life cycle counts it: a pass
 * ends a streak, except that a streak with a group round in it (`groupBound`) is ended only by a pass in a group
 * round. A pass outside a round says nothing about a GPU that several devices share: any one of them passes alone.
 * So one shared GPU whose devices miss a round (late, or excused as `host_stall`) cannot be cleared by their
 * individual retries, whatever stalls they show. Nor by a round that left out a device of the missed round: such a
 * pass is not `grouped` (round-coverage.ts), so taking the other device offline for the retry round clears nothing.
 */
export function currentStreak(history: readonly ProofHistoryEntry[]): {
  failures: number;
  excused: number;
  groupBound: boolean;
  /** The rounds of the streak's misses (round-coverage.ts: the round that clears them must cover them). */
  missedRounds: string[];
} {
  let failures = 0;
  let excused = 0;
  let groupBound = false;
  let missedRounds: string[] = [];
  for (const entry of history) {
    if (entry.outcome === "pass") {
      if (groupBound && !entry.grouped) continue;
      failures = 0;
      excused = 0;
      groupBound = false;
      missedRounds = [];
      continue;
    }
    if (entry.reason === EXCUSED_REASON) excused++;
    else failures++;
    if (entry.grouped) groupBound = true;
    if (entry.round && !missedRounds.includes(entry.round)) missedRounds.push(entry.round);
  }
  return { failures, excused, groupBound, missedRounds };
}
