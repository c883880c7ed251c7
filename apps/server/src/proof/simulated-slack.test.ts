import { describe, expect, it } from "vitest";
import { hardwareProfiles } from "../../../../packages/protocol/src/hardware-profiles.js";
import { createChallenge } from "./challenge.js";
import { seededRandom } from "./random-source.js";
import { issueChallenge, SIMULATED_GRACE_MS, SIMULATED_RTT_ALLOWANCE_MS } from "./simulated-slack.js";
import { createVerifierKeyring } from "./verifier-key.js";

const keyring = createVerifierKeyring({ random: seededRandom("slack keys") });
const issue = (profileId: string, rttMs: number, make = issueChallenge) =>
  make({
    profile: hardwareProfiles.find((p) => p.id === profileId)!,
    gpuCount: 1,
    rttMs,
    keyring,
    nowMs: 0,
    random: seededRandom(`slack ${profileId}`),
  });
/** The sim's counterfeits (apps/cli/src/sim/sim-device.ts COUNTERFEIT_SLOWDOWN) and the tests' slowest honest-looking one. */
const SIM_COUNTERFEIT_SLOWDOWN = 50;

describe("challenge deadlines of simulated profiles", () => {
  it("leaves real profiles exactly as sizing makes them", () => {
    for (const id of ["cpu-generic"]) {
      expect(issue(id, 80).size).toEqual(issue(id, 80, createChallenge).size);
    }
  });

  it("gives an honest simulated device a fixed grace for load stalls on top of twice its expected time", () => {
    for (const p of hardwareProfiles.filter((p) => p.simulated)) {
      const c = issue(p.id, 10);
      expect(c.size.deadlineMs).toBe(Math.ceil(2 * c.size.expectedMs + SIMULATED_GRACE_MS + 10));
      expect(c.message.deadlineMs).toBe(c.size.deadlineMs);
      expect(c.size.revealRows).toBe(Math.min(128, c.size.batch * c.size.n));
    }
  });

  it("caps the RTT credit of simulated devices, so the sim's counterfeits are late on every simulated profile", () => {
    for (const p of hardwareProfiles.filter((p) => p.simulated)) {
      const c = issue(p.id, 10_000);
      expect(c.size.rttAllowanceMs).toBe(SIMULATED_RTT_ALLOWANCE_MS);
      expect(SIM_COUNTERFEIT_SLOWDOWN * c.size.expectedMs).toBeGreaterThan(1.5 * c.size.deadlineMs);
    }
  });
});
