import { describe, expect, it } from "vitest";
import { seededRandom } from "./random-source.js";
import {
  currentStreak,
  nextVerificationState,
  defaultVerificationPolicy as policy,
} from "./verification-state.js";
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
      excusedStalls: 0,
      groupBound: false,
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
      excusedStalls: 0,
      groupBound: false,
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
      excusedStalls: 0,
      groupBound: false,
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

  describe("with late commits that a stall excused (host_stall)", () => {
    const entries = (...reasons: Array<string | null>) =>
      reasons.map((reason, i) => ({
        outcome: (reason === null ? "pass" : "timeout") as ProofOutcome,
        reason,
        atMs: 1000 * (i + 1),
      }));
    const judge = (...reasons: Array<string | null>) =>
      nextVerificationState(entries(...reasons), 99_000, policy, seededRandom("s"));

    it("does not quarantine an honest device whose retry fell in a 3.5 s host stall after one real failure", () => {
      expect(judge(null, "commit_late", "host_stall")).toEqual({
        state: "unverified",
        quarantine: false,
        consecutiveFailures: 1,
        excusedStalls: 1,
        groupBound: false,
        nextChallengeAtMs: 3000 + policy.retryDelayMs,
      });
    });

    it("waits twice as long before each further retry while the stalls go on", () => {
      expect(judge("host_stall").nextChallengeAtMs).toBe(1000 + policy.retryDelayMs);
      expect(judge("host_stall", "host_stall").nextChallengeAtMs).toBe(2000 + 2 * policy.retryDelayMs);
      expect(judge("commit_late", "host_stall", "host_stall", "host_stall").nextChallengeAtMs).toBe(
        4000 + 4 * policy.retryDelayMs,
      );
    });

    it("verifies the device again once a retry after the stall passes", () => {
      expect(judge("host_stall", "commit_late", "host_stall", null)).toMatchObject({
        state: "verified",
        quarantine: false,
      });
    });

    it("still quarantines on the second failure that no stall explains", () => {
      expect(judge("commit_late", "host_stall", "host_stall", "commit_late")).toMatchObject({
        state: "failed",
        quarantine: true,
        consecutiveFailures: 2,
        excusedStalls: 2,
      });
    });

    it("quarantines a device that stalls at five challenges in a row (a worker faking stalls is never verified by them)", () => {
      const stalls = new Array<string>(policy.maxExcusedStalls).fill("host_stall");
      expect(judge(...stalls.slice(1))).toMatchObject({ state: "unverified", quarantine: false });
      expect(judge(...stalls)).toMatchObject({
        state: "failed",
        quarantine: true,
        consecutiveFailures: 0,
        nextChallengeAtMs: policy.maxExcusedStalls * 1000 + policy.quarantineMs,
      });
    });
  });

  describe("after a group round", () => {
    type Step = [ProofOutcome, string | null, "group" | "alone"];
    const judge = (...steps: Step[]) =>
      nextVerificationState(
        steps.map(([outcome, reason, how], i) => ({
          outcome,
          reason,
          atMs: 1000 * (i + 1),
          grouped: how === "group",
        })),
        99_000,
        policy,
        seededRandom("g"),
      );

    it("is cleared by a pass in a group round, and says so while it is not", () => {
      expect(judge(["pass", null, "group"], ["timeout", "host_stall", "group"])).toMatchObject({
        state: "unverified",
        groupBound: true,
        excusedStalls: 1,
      });
      expect(judge(["timeout", "host_stall", "group"], ["pass", null, "group"])).toMatchObject({
        state: "verified",
        groupBound: false,
      });
    });

    it("is not cleared by passes outside a round, which one GPU shared by several devices passes easily", () => {
      const faker: Step[] = [["timeout", "host_stall", "group"]];
      for (let i = 1; i < policy.maxExcusedStalls; i++)
        faker.push(["pass", null, "alone"], ["timeout", "host_stall", "group"]);
      expect(judge(...faker.slice(0, -1))).toMatchObject({ state: "unverified", excusedStalls: 4 });
      expect(judge(...faker)).toMatchObject({ state: "failed", quarantine: true, excusedStalls: 5 });
    });

    it("leaves a streak without a round to be cleared by any pass, as before", () => {
      expect(judge(["timeout", "host_stall", "alone"], ["pass", null, "alone"])).toMatchObject({
        state: "verified",
      });
    });

    it("names the rounds the streak missed, which the round that clears it must cover", () => {
      const entry = (outcome: ProofOutcome, reason: string | null, round: string | null, grouped = true) => ({
        outcome,
        reason,
        atMs: 1000,
        round,
        grouped: round !== null && grouped,
      });
      expect(
        currentStreak([
          entry("timeout", "host_stall", "r0"),
          entry("pass", null, "r1"),
          entry("timeout", "host_stall", "r2"),
          entry("timeout", "commit_late", null),
          entry("timeout", "host_stall", "r3"),
          entry("timeout", "host_stall", "r3"),
        ]),
      ).toEqual({ failures: 1, excused: 3, groupBound: true, missedRounds: ["r2", "r3"] });
      // A pass in a round that left out a device of the missed round (round-coverage.ts) clears nothing.
      expect(currentStreak([entry("timeout", "host_stall", "r2"), entry("pass", null, "r4", false)])).toEqual(
        { failures: 0, excused: 1, groupBound: true, missedRounds: ["r2"] },
      );
      expect(currentStreak([entry("timeout", "host_stall", "r2"), entry("pass", null, "r5")])).toEqual({
        failures: 0,
        excused: 0,
        groupBound: false,
        missedRounds: [],
      });
    });
  });
});
