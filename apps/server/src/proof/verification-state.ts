import type { Verification } from "../../../../packages/protocol/src/devices.js";
import { cryptoRandom, type RandomSource } from "./random-source.js";
import type { ProofOutcome } from "./verify-reveal.js";

/** One finished challenge of a device. */
export interface ProofHistoryEntry {
  readonly outcome: ProofOutcome;
  readonly atMs: number;
}

/** Timings of the verification life cycle. */
export interface VerificationPolicy {
  /** Wait before the one retry after a failure or timeout. */
  readonly retryDelayMs: number;
  /** Quarantine after the second consecutive failure; doubles with each further one. */
  readonly quarantineMs: number;
  readonly maxQuarantineMs: number;
  /** A verified device is re-challenged at a uniformly random time in [recheckMinMs, recheckMaxMs]. */
  readonly recheckMinMs: number;
  readonly recheckMaxMs: number;
}

/** Retry after 2 minutes, quarantine 24 h (doubling, at most 7 days), re-challenge every 1–6 h. */
export const defaultVerificationPolicy: VerificationPolicy = {
  retryDelayMs: 2 * 60_000,
  quarantineMs: 24 * 3_600_000,
  maxQuarantineMs: 7 * 24 * 3_600_000,
  recheckMinMs: 3_600_000,
  recheckMaxMs: 6 * 3_600_000,
};

/** What to do with a device after its latest challenge. */
export interface VerificationDecision {
  readonly state: Verification;
  /** True from the second consecutive failure: the device is taken out of rewards and scheduling. */
  readonly quarantine: boolean;
  readonly consecutiveFailures: number;
  /** When to send the next challenge (retry, end of quarantine or random re-check). */
  readonly nextChallengeAtMs: number;
}

/**
 * Retry once, then quarantine: a pass verifies; the first failure (fail or timeout alike) makes the device
 * unverified and schedules one retry; a second consecutive failure marks it failed and quarantines it until
 * the (doubling) quarantine ends and a fresh challenge may clear it. Pure apart from `random`, which spreads
 * re-checks so a worker cannot predict them. `history` is in time order.
 */
export function nextVerificationState(
  history: readonly ProofHistoryEntry[],
  nowMs: number,
  policy: VerificationPolicy = defaultVerificationPolicy,
  random: RandomSource = cryptoRandom,
): VerificationDecision {
  const last = history.at(-1);
  if (!last)
    return { state: "unverified", quarantine: false, consecutiveFailures: 0, nextChallengeAtMs: nowMs };
  let failures = 0;
  for (let i = history.length - 1; i >= 0 && history[i].outcome !== "pass"; i--) failures++;
  if (failures === 0) {
    const b = random(4);
    const u = (b[0] + b[1] * 2 ** 8 + b[2] * 2 ** 16 + b[3] * 2 ** 24) / 2 ** 32;
    const nextChallengeAtMs =
      last.atMs + policy.recheckMinMs + Math.floor(u * (policy.recheckMaxMs - policy.recheckMinMs));
    return { state: "verified", quarantine: false, consecutiveFailures: 0, nextChallengeAtMs };
  }
  if (failures === 1) {
    return {
      state: "unverified",
      quarantine: false,
      consecutiveFailures: 1,
      nextChallengeAtMs: last.atMs + policy.retryDelayMs,
    };
  }
  const quarantineMs = Math.min(
    policy.maxQuarantineMs,
    policy.quarantineMs * 2 ** Math.min(failures - 2, 16),
  );
  return {
    state: "failed",
    quarantine: true,
    consecutiveFailures: failures,
    nextChallengeAtMs: last.atMs + quarantineMs,
  };
}
