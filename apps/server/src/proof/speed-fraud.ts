import type { ExchangeEnd } from "./challenge-exchange.js";
import { EXCUSED_REASON, type ProofHistoryEntry } from "./verification-state.js";

/** Reasons of late commits from a healthy session (no stall excused them). */
const CLEAN_LATE = new Set(["commit_late", "speed_short"]);

/**
 * Whether the failure before a new clean late commit, in the current streak and stalls excused aside, was a
 * clean late commit that arrived too. The two were at unpredictable times minutes apart (the retry time is
 * drawn at random), each with the worker answering pings and the server's timers on time, so the GPU itself
 * is slower than claimed. One late commit alone never is fraud: a stall the watch missed explains one.
 */
export function followsCleanLateCommit(history: readonly ProofHistoryEntry[]): boolean {
  for (let i = history.length - 1; i >= 0; i--) {
    const entry = history[i]!;
    if (entry.outcome === "pass") return false;
    if (entry.reason === EXCUSED_REASON) continue;
    return (
      CLEAN_LATE.has(entry.reason ?? "") &&
      entry.commitLatencyMs != null &&
      entry.deadlineMs !== undefined &&
      entry.commitLatencyMs > entry.deadlineMs
    );
  }
  return false;
}

/**
 * The verdict on a late commit once the device's history before it is known: a clean late commit that
 * arrived (`commit_late` with a measured latency) and repeats one becomes a failure for `speed_short`, a
 * fraud-class reason. A commit that never arrives is not: a device that says nothing cannot be told from a
 * broken one, so it is quarantined (retry, then quarantine) but never counted as a lie.
 */
export function judgeLateCommit(history: readonly ProofHistoryEntry[], end: ExchangeEnd): ExchangeEnd {
  const result = end.result;
  // Only the commit itself late counts: `commit_late` also ends a challenge whose memory roots came late.
  const late = result?.commitLatencyMs != null && result.commitLatencyMs > result.deadlineMs;
  if (end.reason !== "commit_late" || !result || !late || !followsCleanLateCommit(history)) return end;
  const fraud = { outcome: "fail", reason: "speed_short" } as const;
  return { ...end, ...fraud, result: { ...result, ...fraud } };
}
