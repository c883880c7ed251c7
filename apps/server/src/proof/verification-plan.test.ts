import { describe, expect, it } from "vitest";
import { planAfterConnect, planAfterDecision } from "./verification-plan.js";
import type { ProofHistoryEntry } from "./verification-state.js";

const timing = { retryDelayMs: 300, recheckDelayMs: () => 7_000 };
const at = (outcome: ProofHistoryEntry["outcome"], atMs: number): ProofHistoryEntry => ({ outcome, atMs });
const NOW = 1_000_000;

describe("planAfterDecision", () => {
  it("re-checks a verified device after a random wait drawn by the service", () => {
    const plan = planAfterDecision([at("pass", NOW)], NOW, timing);
    expect(plan).toMatchObject({
      decision: { state: "verified" },
      nextAtMs: NOW + 7_000,
      trigger: "schedule",
    });
  });

  it("retries once after the configured delay when a challenge fails", () => {
    const plan = planAfterDecision([at("pass", 1), at("timeout", NOW)], NOW, timing);
    expect(plan).toMatchObject({ decision: { state: "unverified" }, nextAtMs: NOW + 300, trigger: "retry" });
  });

  it("spreads retries by the drawn extra wait, so devices that failed together are not retried together", () => {
    const draws = [0, 149, 75];
    const spread = { ...timing, retrySpreadMs: () => draws.shift()! };
    const history = [at("pass", 1), at("timeout", NOW)];
    const times = [1, 2, 3].map(() => planAfterDecision(history, NOW, spread).nextAtMs);
    expect(times).toEqual([NOW + 300, NOW + 449, NOW + 375]);
    // The quarantine's end is not spread: only the retry is.
    const failed = planAfterDecision([at("fail", NOW - 300), at("fail", NOW)], NOW, spread);
    expect(failed.nextAtMs).toBe(NOW + 24 * 3_600_000);
  });

  it("quarantines on the second failure in a row and waits for the quarantine to end", () => {
    const plan = planAfterDecision([at("fail", NOW - 300), at("fail", NOW)], NOW, timing);
    expect(plan.decision).toMatchObject({ state: "failed", quarantine: true });
    expect(plan.nextAtMs).toBe(NOW + 24 * 3_600_000);
    expect(plan.trigger).toBe("schedule");
  });
});

describe("planAfterConnect", () => {
  it("challenges a device with no history at once", () => {
    expect(planAfterConnect([], "unverified", NOW, timing)).toEqual({ nextAtMs: NOW, trigger: "connect" });
  });

  it("challenges at once a device whose verification was reset since its last pass (a new GPU claim)", () => {
    expect(planAfterConnect([at("pass", 5)], "unverified", NOW, timing)).toEqual({
      nextAtMs: NOW,
      trigger: "hardware",
    });
  });

  it("gives a verified device a fresh random wait, and a failed one its retry or the end of its quarantine", () => {
    expect(planAfterConnect([at("pass", 5)], "verified", NOW, timing)).toEqual({
      nextAtMs: NOW + 7_000,
      trigger: "schedule",
    });
    expect(planAfterConnect([at("fail", NOW - 1_000)], "unverified", NOW, timing)).toEqual({
      nextAtMs: NOW,
      trigger: "retry",
    });
    expect(planAfterConnect([at("fail", NOW - 500), at("fail", NOW - 100)], "failed", NOW, timing)).toEqual({
      nextAtMs: NOW - 100 + 24 * 3_600_000,
      trigger: "schedule",
    });
  });
});
