import { challengeWorkOps, proofTestVectors } from "@ignis/protocol/proof";
import { describe, expect, it } from "vitest";
import { createCpuProver } from "./cpu-prover.js";
import { pacedProver } from "./paced-prover.js";
import { createVirtualClock } from "./prover-clock.js";

const v = proofTestVectors[2];
const challenge = {
  type: "proof.challenge" as const,
  challengeId: "paced",
  seed: v.seed,
  bSeed: v.bSeed,
  n: v.n,
  inner: v.inner,
  batch: v.batch,
  deadlineMs: 1000,
};

describe("a paced prover", () => {
  it("takes exactly the modelled hardware's time on a virtual clock and still commits correctly", async () => {
    const clock = createVirtualClock(1000);
    const opsPerSecond = 1e6;
    const prover = pacedProver(createCpuProver({ clock }), { opsPerSecond, clock });
    const commit = await prover.commit(challenge);
    const modelledMs = (challengeWorkOps(v) / opsPerSecond) * 1000;
    expect(commit.root).toBe(v.root);
    expect(commit.elapsedMs).toBeCloseTo(modelledMs, 6);
    expect(clock.now()).toBeCloseTo(1000 + modelledMs, 6);
  });

  it("stretches each commit by the jitter factor", async () => {
    const clock = createVirtualClock();
    const prover = pacedProver(createCpuProver({ clock }), { opsPerSecond: 1e6, clock, jitter: () => 1.5 });
    const commit = await prover.commit(challenge);
    expect(commit.elapsedMs).toBeCloseTo((challengeWorkOps(v) / 1e6) * 1000 * 1.5, 6);
  });
});
