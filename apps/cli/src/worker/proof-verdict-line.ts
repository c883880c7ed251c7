import type { ProofVerdictMessage } from "@ignis/protocol/proof";

/** Plain words for the worker's log about a decided proof-of-GPU challenge, and what it means for earning. */
export function proofVerdictLine(verdict: ProofVerdictMessage): string {
  if (verdict.outcome === "pass") {
    return verdict.verification === "verified"
      ? `proof of GPU passed (${verdict.challengeId}): the device is verified, can be hired, and earns rewards for every minute it stays online`
      : `proof of GPU passed (${verdict.challengeId}); verification is ${verdict.verification}`;
  }
  const why = verdict.reason ? `: ${verdict.reason}` : "";
  return verdict.quarantined
    ? `proof of GPU FAILED (${verdict.challengeId})${why}; the device is quarantined and earns nothing until it passes a later challenge`
    : `proof of GPU FAILED (${verdict.challengeId})${why}; it will be challenged again soon, and a second failure quarantines the device`;
}
