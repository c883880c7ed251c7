import { describe, expect, it } from "vitest";
import { findHardwareProfile, hardwareProfiles } from "../hardware-profiles.js";
import {
  challengeWorkOps,
  ESCAPE_LOG2,
  MAX_RTT_ALLOWANCE_MS,
  MIN_REVEAL_ROWS,
  OVERCLAIM_DESIGN_FACTOR,
  PROOF_SLACK,
  revealRowsFor,
  sizeChallenge,
} from "./challenge-sizing.js";
import { MAX_REVEAL_ROWS, proofChallengeMessage } from "./messages.js";

const profile = (id: string) => findHardwareProfile(id)!;

describe("challenge sizing", () => {
  it("asks real devices for one to three seconds of work and simulated ones for tens of milliseconds", () => {
    for (const p of hardwareProfiles) {
      const size = sizeChallenge(p, { gpuCount: 1, rttMs: 0 });
      if (p.simulated) {
        expect(size.expectedMs).toBeGreaterThan(10);
        expect(size.expectedMs).toBeLessThan(100);
      } else {
        expect(size.expectedMs).toBeGreaterThan(1000);
        expect(size.expectedMs).toBeLessThan(3000);
      }
      expect(size.workOps).toBe(challengeWorkOps(size));
    }
  });

  it("sets the deadline to expected time × slack plus the round trip", () => {
    const size = sizeChallenge(profile("nvidia-h100-sxm"), { gpuCount: 1, rttMs: 80 });
    expect(size.deadlineMs).toBe(Math.ceil(size.expectedMs * PROOF_SLACK + 80));
    expect(size.rttAllowanceMs).toBe(80);
  });

  it("caps the round-trip allowance so delayed pongs cannot buy compute time", () => {
    const size = sizeChallenge(profile("nvidia-h100-sxm"), { gpuCount: 1, rttMs: 5000 });
    expect(size.rttAllowanceMs).toBe(MAX_RTT_ALLOWANCE_MS);
    expect(size.deadlineMs).toBe(Math.ceil(size.expectedMs * PROOF_SLACK + MAX_RTT_ALLOWANCE_MS));
  });

  it("scales the work with the claimed GPU count and keeps the expected time", () => {
    const one = sizeChallenge(profile("nvidia-a100-80gb"), { gpuCount: 1, rttMs: 0 });
    const eight = sizeChallenge(profile("nvidia-a100-80gb"), { gpuCount: 8, rttMs: 0 });
    expect(eight.workOps / one.workOps).toBeCloseTo(8, 1);
    expect(eight.expectedMs / one.expectedMs).toBeCloseTo(1, 1);
  });

  it("opens enough rows that a device 1.5× slower than claimed escapes with probability ≤ 2^-20", () => {
    for (const rttMs of [0, 50, 150]) {
      const size = sizeChallenge(profile("nvidia-h100-sxm"), { gpuCount: 1, rttMs });
      const fraction = size.deadlineMs / (OVERCLAIM_DESIGN_FACTOR * size.expectedMs);
      expect(size.revealRows).toBeGreaterThanOrEqual(MIN_REVEAL_ROWS);
      expect(size.revealRows * Math.log2(fraction)).toBeLessThanOrEqual(-ESCAPE_LOG2);
    }
    expect(revealRowsFor(1000, 1600, 1 << 20)).toBe(MAX_REVEAL_ROWS);
    expect(revealRowsFor(1000, 1250, 10)).toBe(10);
  });

  it("produces challenges the wire schema accepts", () => {
    for (const p of hardwareProfiles) {
      const size = sizeChallenge(p, { gpuCount: 8, rttMs: 40 });
      const message = {
        type: "proof.challenge",
        challengeId: "c",
        seed: "00".repeat(32),
        bSeed: "11".repeat(32),
        ...size,
      };
      expect(proofChallengeMessage.safeParse(message).success).toBe(true);
    }
  });

  it("refuses a GPU count below one", () => {
    expect(() => sizeChallenge(profile("sim-h100"), { gpuCount: 0, rttMs: 0 })).toThrow(RangeError);
  });
});
