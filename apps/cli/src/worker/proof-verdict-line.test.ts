import { describe, expect, it } from "vitest";
import { proofVerdictLine } from "./proof-verdict-line.js";

describe("proofVerdictLine", () => {
  it("says a passed proof makes the device verified and earning", () => {
    const line = proofVerdictLine({
      type: "proof.verdict",
      challengeId: "chl_1",
      outcome: "pass",
      reason: null,
      verification: "verified",
      quarantined: false,
    });
    expect(line).toContain("proof of GPU passed");
    expect(line).toContain("earns rewards");
  });

  it("says a failure's reason and whether the device is quarantined", () => {
    const base = {
      type: "proof.verdict",
      challengeId: "chl_2",
      outcome: "fail",
      verification: "failed",
    } as const;
    expect(proofVerdictLine({ ...base, reason: "deadline_missed", quarantined: false })).toMatch(
      /FAILED \(chl_2\): deadline_missed; .*second failure quarantines/,
    );
    expect(proofVerdictLine({ ...base, reason: "wrong_rows", quarantined: true })).toContain(
      "quarantined and earns nothing",
    );
  });
});
