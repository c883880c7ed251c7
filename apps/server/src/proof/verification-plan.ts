import type { ChallengeTrigger, Verification } from "@ignis/protocol";
import {
  defaultVerificationPolicy,
  nextVerificationState,
  type ProofHistoryEntry,
  type VerificationDecision,
} from "./verification-state.js";

/** The timings the service runs the life cycle with. */
export interface PlanTiming {
  /** Wait before the one retry after a failure (IGNIS_CHALLENGE_RETRY_SECONDS). */
  readonly retryDelayMs: number;
  /** Draws the wait before a verified device's next re-check (exponential, IGNIS_CHALLENGE_MEAN_SECONDS). */
  readonly recheckDelayMs: () => number;
  /**
   * Draws an extra wait added to each retry (none when absent). Devices that failed together, in one load
   * stall, would otherwise all be retried at the same instant, into the burst that made them fail.
   */
  readonly retrySpreadMs?: () => number;
}

/** What follows a decision: the state to write, and when and why to challenge next. */
export interface VerificationPlan {
  readonly decision: VerificationDecision;
  readonly nextAtMs: number;
  readonly trigger: ChallengeTrigger;
}

/**
 * The life cycle after a verdict, from the device's history: nextVerificationState decides the state, the
 * retry time and the end of a quarantine; a verified device's re-check is drawn from the exponential
 * distribution instead of its uniform 1–6 h window, so no wait after a pass is ever known to be safe.
 */
export function planAfterDecision(
  history: readonly ProofHistoryEntry[],
  nowMs: number,
  timing: PlanTiming,
): VerificationPlan {
  const decision = nextVerificationState(history, nowMs, {
    ...defaultVerificationPolicy,
    retryDelayMs: timing.retryDelayMs,
  });
  if (decision.state === "verified") {
    return { decision, nextAtMs: nowMs + timing.recheckDelayMs(), trigger: "schedule" };
  }
  if (!decision.quarantine) {
    return {
      decision,
      nextAtMs: decision.nextChallengeAtMs + (timing.retrySpreadMs?.() ?? 0),
      trigger: "retry",
    };
  }
  return { decision, nextAtMs: decision.nextChallengeAtMs, trigger: "schedule" };
}

/**
 * When to challenge a device that just connected: at once when it has no history since its last review (a
 * new device, or one an admin cleared) or when its verification was reset since its last pass (a new GPU
 * claim); otherwise where its life cycle stands (a random re-check, the pending retry, or the end of its
 * quarantine). Re-drawing a verified device's wait on reconnect changes nothing: the draw is memoryless.
 */
export function planAfterConnect(
  history: readonly ProofHistoryEntry[],
  verification: Verification,
  nowMs: number,
  timing: PlanTiming,
): { nextAtMs: number; trigger: ChallengeTrigger } {
  if (history.length === 0) return { nextAtMs: nowMs, trigger: "connect" };
  const plan = planAfterDecision(history, nowMs, timing);
  if (plan.decision.state === "verified" && verification !== "verified") {
    return { nextAtMs: nowMs, trigger: "hardware" };
  }
  return { nextAtMs: Math.max(nowMs, plan.nextAtMs), trigger: plan.trigger };
}
