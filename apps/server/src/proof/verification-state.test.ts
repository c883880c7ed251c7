import { describe, expect, it } from "vitest";
import { seededRandom } from "./random-source.js";
import { nextVerificationState, defaultVerificationPolicy as policy } from "./verification-state.js";
import type { ProofOutcome } from "./verify-reveal.js";

const history = (...outcomes: ProofOutcome[]) =>
  outcomes.map((outcome, i) => ({ outcome, atMs: 1000 * (i + 1) }));
const decide = (...outcomes: ProofOutcome[]) =>
  nextVerificationState(history(...outcomes), 99_000, policy, seededRandom("s"));

describe("the verification life cycle", () => {
  it("starts unverified with a challenge due now", () => {
    expect(decide()).toEqual({
      state: "unverified",
      quarantine: false,
      consecutiveFailures: 0,
      nextChallengeAtMs: 99_000,
    });
  });

  it("verifies on a pass and re-checks at a random time one to six hours later", () => {
    const d = decide("pass");
    expect(d).toMatchObject({ state: "verified", quarantine: false });
    expect(d.nextChallengeAtMs).toBeGreaterThanOrEqual(1000 + policy.recheckMinMs);
    expect(d.nextChallengeAtMs).toBeLessThanOrEqual(1000 + policy.recheckMaxMs);
  });

  it("retries once after a failure or a timeout, without quarantine", () => {
    expect(decide("pass", "timeout")).toEqual({
      state: "unverified",
      quarantine: false,
      consecutiveFailures: 1,
      nextChallengeAtMs: 2000 + policy.retryDelayMs,
    });
    expect(decide("fail")).toMatchObject({ state: "unverified", quarantine: false });
  });

  it("passes an honest device whose retry succeeds", () => {
    expect(decide("timeout", "pass")).toMatchObject({ state: "verified", consecutiveFailures: 0 });
  });

  it("quarantines after the second consecutive failure, doubling the quarantine up to a week", () => {
    expect(decide("pass", "fail", "timeout")).toEqual({
      state: "failed",
      quarantine: true,
      consecutiveFailures: 2,
      nextChallengeAtMs: 3000 + policy.quarantineMs,
    });
    expect(decide("fail", "fail", "fail").nextChallengeAtMs).toBe(3000 + 2 * policy.quarantineMs);
    expect(decide(...new Array<ProofOutcome>(12).fill("fail")).nextChallengeAtMs).toBe(
      12_000 + policy.maxQuarantineMs,
    );
  });

  it("clears a quarantined device that passes its next challenge", () => {
    expect(decide("fail", "fail", "pass")).toMatchObject({ state: "verified", quarantine: false });
  });
});
