import { expect, it } from "vitest";
import { describeWithReplicaServices } from "../replicas/services.js";
import { runEpochCloseInterruptScenario } from "./epoch-close-interrupt-scenario.js";

describeWithReplicaServices("an epoch close killed mid-way", () => {
  it("leaves nothing behind, and its rerun publishes the same root as an uninterrupted close", async () => {
    const result = await runEpochCloseInterruptScenario({ devices: 3_000, stage: "tree" });

    expect(result.leftBehind).toEqual({ epochRows: 0, rewardRows: 0, treePages: 0, ledgerTransactions: 0 });
    expect(result.referenceRoot).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.rerunRoot).toBe(result.referenceRoot);
    expect(result.recomputeMatches).toBe(true);
  }, 90_000);
});
