import { type HardwareProfile, profileOpsPerSecond } from "../hardware-profiles.js";
import { MAX_PROOF_BATCH, MAX_REVEAL_ROWS } from "./messages.js";

/**
 * Challenge sizing: how much work to ask for, how long to allow and how many rows to open.
 * docs/proof-of-gpu.md ("Timing and soundness") derives these constants.
 */

/** Deadline multiplier on the expected compute time: honest jitter (σ ≈ 5–10%) stays well inside it. */
export const PROOF_SLACK = 1.25;
/** Most round-trip time added to a deadline, so a worker cannot buy compute time by delaying pongs. */
export const MAX_RTT_ALLOWANCE_MS = 250;
/** A device this many times slower than it claims must be caught on (nearly) every challenge. */
export const OVERCLAIM_DESIGN_FACTOR = 1.5;
/** Such a device passes one challenge with probability at most 2^-ESCAPE_LOG2. */
export const ESCAPE_LOG2 = 20;
/** Fewest rows opened per challenge. */
export const MIN_REVEAL_ROWS = 16;

/** Operations of one challenge: batch products of (n × inner)·(inner × n), 2 ops per multiply-add. */
export function challengeWorkOps(shape: { n: number; inner: number; batch: number }): number {
  return 2 * shape.batch * shape.n * shape.n * shape.inner;
}

/** Everything the server decides about a challenge before sending it. */
export interface ChallengeSize {
  readonly n: number;
  readonly inner: number;
  readonly batch: number;
  readonly workOps: number;
  /** Time a correct device of the claimed profile and count needs, in ms. */
  readonly expectedMs: number;
  readonly rttAllowanceMs: number;
  /** ⌈expectedMs · PROOF_SLACK + rttAllowanceMs⌉. */
  readonly deadlineMs: number;
  /** Rows to open after the commit. */
  readonly revealRows: number;
}

/**
 * Rows to open so that a device computing only the fraction deadline/(1.5 · expected) of the rows — all a
 * 1.5× slower device can do in time — passes with probability f^k ≤ 2^-ESCAPE_LOG2. Capped by the leaf count
 * (opening every row is then a full check) and by MAX_REVEAL_ROWS.
 */
export function revealRowsFor(expectedMs: number, deadlineMs: number, leafCount: number): number {
  const fraction = deadlineMs / (OVERCLAIM_DESIGN_FACTOR * expectedMs);
  const needed = fraction >= 1 ? MAX_REVEAL_ROWS : Math.ceil((ESCAPE_LOG2 * Math.LN2) / -Math.log(fraction));
  return Math.min(leafCount, MAX_REVEAL_ROWS, Math.max(MIN_REVEAL_ROWS, needed));
}

/**
 * Sizes a challenge for `gpuCount` devices of `profile` behind a session with round trip `rttMs`: the batch
 * is chosen so that the claimed hardware needs about profile.proof.targetMs; work scales with the count, so
 * a worker claiming more devices than it has is slower by that factor.
 */
export function sizeChallenge(
  profile: HardwareProfile,
  options: { gpuCount: number; rttMs: number },
): ChallengeSize {
  const { n, inner, targetMs } = profile.proof;
  if (!Number.isInteger(options.gpuCount) || options.gpuCount < 1)
    throw new RangeError("gpuCount must be ≥ 1");
  const opsPerMs = (profileOpsPerSecond(profile) * options.gpuCount) / 1000;
  const perMatrix = challengeWorkOps({ n, inner, batch: 1 });
  const batch = Math.min(MAX_PROOF_BATCH, Math.max(1, Math.round((targetMs * opsPerMs) / perMatrix)));
  const workOps = perMatrix * batch;
  const expectedMs = workOps / opsPerMs;
  const rttAllowanceMs = Math.min(MAX_RTT_ALLOWANCE_MS, Math.max(0, options.rttMs));
  const deadlineMs = Math.ceil(expectedMs * PROOF_SLACK + rttAllowanceMs);
  const revealRows = revealRowsFor(expectedMs, deadlineMs, batch * n);
  return { n, inner, batch, workOps, expectedMs, rttAllowanceMs, deadlineMs, revealRows };
}
