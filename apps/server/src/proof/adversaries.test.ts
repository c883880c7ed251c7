/**
 * End to end: real provers (honest and dishonest, apps/cli/src/prover) against the real verifier, over the
 * in-process exchange on virtual time, so timing outcomes are exact and the suite never waits.
 */
import { describe, expect, it } from "vitest";
import {
  findHardwareProfile,
  type HardwareProfile,
  hardwareProfiles,
  profileOpsPerSecond,
} from "../../../../packages/protocol/src/hardware-profiles.js";
import {
  deadlineFittingProver,
  gpuCountOverclaimer,
  halfRowsProver,
  partialRowsProver,
  randomRootProver,
  rateCappedProver,
  replayProver,
} from "../../../cli/src/prover/adversary-provers.js";
import { createCpuProver } from "../../../cli/src/prover/cpu-prover.js";
import type { Prover } from "../../../cli/src/prover/prover.js";
import { createVirtualClock, type VirtualClock } from "../../../cli/src/prover/prover-clock.js";
import { selectProver } from "../../../cli/src/prover/select-prover.js";
import { createChallenge, type IssuedChallenge } from "./challenge.js";
import { runLocalExchange } from "./local-exchange.js";
import { seededRandom } from "./random-source.js";
import { createVerifierKeyring } from "./verifier-key.js";

const keyring = createVerifierKeyring({ random: seededRandom("adversary keys") });
const profile = (id: string) => findHardwareProfile(id)!;

async function challengeOnce(options: {
  claimed: HardwareProfile;
  prover: Prover;
  clock: VirtualClock;
  label: string;
  gpuCount?: number;
  oneWayMs?: number;
  reshape?: (c: IssuedChallenge) => IssuedChallenge;
}) {
  const oneWayMs = options.oneWayMs ?? 10;
  let challenge = createChallenge({
    profile: options.claimed,
    gpuCount: options.gpuCount ?? 1,
    rttMs: 2 * oneWayMs,
    keyring,
    nowMs: options.clock.now(),
    random: seededRandom(options.label),
  });
  if (options.reshape) challenge = options.reshape(challenge);
  return runLocalExchange({
    challenge,
    responder: options.prover,
    clock: options.clock,
    oneWayDelayMs: () => oneWayMs,
    random: seededRandom(`${options.label} rows`),
  });
}

describe("honest devices", () => {
  it("pass on every simulated profile when they run at the profile's own rate", async () => {
    for (const claimed of hardwareProfiles.filter((p) => p.simulated)) {
      const clock = createVirtualClock();
      const { prover } = await selectProver({ profile: claimed, clock });
      const result = await challengeOnce({ claimed, prover, clock, label: `honest ${claimed.id}` });
      expect(result, claimed.id).toMatchObject({ outcome: "pass", reason: null });
      expect(result.commitLatencyMs).toBeCloseTo(result.expectedMs + 20, 6);
    }
  });

  it("pass with several GPUs when the work is spread over all of them", async () => {
    const clock = createVirtualClock();
    const claimed = profile("sim-a100");
    const { prover } = await selectProver({ profile: claimed, gpuCount: 4, clock });
    const result = await challengeOnce({ claimed, prover, clock, gpuCount: 4, label: "four gpus" });
    expect(result.outcome).toBe("pass");
  });
});

describe("counterfeit devices", () => {
  it("a slower GPU claiming a model 1.5× faster times out", async () => {
    const clock = createVirtualClock();
    const claimed = profile("sim-h100");
    const prover = rateCappedProver({ opsPerSecond: profileOpsPerSecond(claimed) / 1.5, clock });
    const result = await challengeOnce({ claimed, prover, clock, label: "rate capped" });
    expect(result).toMatchObject({ outcome: "timeout", reason: "commit_late" });
  });

  it("a sim-a100 passing itself off as a sim-h100 times out", async () => {
    const clock = createVirtualClock();
    const prover = rateCappedProver({ opsPerSecond: profileOpsPerSecond(profile("sim-a100")), clock });
    const result = await challengeOnce({
      claimed: profile("sim-h100"),
      prover,
      clock,
      label: "a100 as h100",
    });
    expect(result.outcome).toBe("timeout");
  });

  it("one GPU claiming to be eight times out", async () => {
    const clock = createVirtualClock();
    const claimed = profile("sim-a100");
    const prover = gpuCountOverclaimer({ profile: claimed, trueGpuCount: 1, clock });
    const result = await challengeOnce({ claimed, prover, clock, gpuCount: 8, label: "eight gpus" });
    expect(result).toMatchObject({ outcome: "timeout", reason: "commit_late" });
  });

  it("a random root fails on the first Merkle proof", async () => {
    const clock = createVirtualClock();
    const prover = randomRootProver(seededRandom("junk"));
    const result = await challengeOnce({ claimed: profile("sim-h100"), prover, clock, label: "random root" });
    expect(result).toMatchObject({ outcome: "fail", reason: "bad_proof", rowsChecked: 0 });
  });

  it("replaying an earlier commitment fails Freivalds' check", async () => {
    const clock = createVirtualClock();
    const claimed = profile("sim-rtx4090");
    const prover = replayProver();
    expect((await challengeOnce({ claimed, prover, clock, label: "replay 1" })).outcome).toBe("pass");
    const replayed = await challengeOnce({ claimed, prover, clock, label: "replay 2" });
    expect(replayed).toMatchObject({ outcome: "fail", reason: "wrong_row" });
  });

  it("computing half the rows fails every one of 40 challenges at the sized row count", async () => {
    const clock = createVirtualClock();
    const claimed = profile("sim-h100");
    for (let t = 0; t < 40; t++) {
      const result = await challengeOnce({ claimed, prover: halfRowsProver(), clock, label: `half ${t}` });
      expect(result).toMatchObject({ outcome: "fail", reason: "wrong_row" });
    }
  });

  it("computing half the rows is caught with probability ≈ 1 - (1/2)^k for small k", async () => {
    const clock = createVirtualClock();
    const claimed = profile("sim-rtx3060");
    for (const k of [1, 2, 4]) {
      const trials = 300;
      let caught = 0;
      for (let t = 0; t < trials; t++) {
        const reshape = (c: IssuedChallenge) => ({ ...c, size: { ...c.size, revealRows: k } });
        const result = await challengeOnce({
          claimed,
          prover: halfRowsProver(),
          clock,
          reshape,
          label: `half k${k} ${t}`,
        });
        if (result.outcome === "fail") caught++;
      }
      // Rows are drawn without replacement from 64 leaves, 32 of them computed.
      let passes = 1;
      for (let i = 0; i < k; i++) passes *= (32 - i) / (64 - i);
      expect(Math.abs(caught / trials - (1 - passes)), `k = ${k}`).toBeLessThan(0.06);
    }
  });

  it("a 1.5× slower GPU computing only what fits before the deadline fails every one of 20 challenges", async () => {
    const clock = createVirtualClock();
    const claimed = profile("sim-h100");
    for (let t = 0; t < 20; t++) {
      const prover = deadlineFittingProver({
        opsPerSecond: profileOpsPerSecond(claimed) / 1.5,
        clock,
        marginMs: 20,
      });
      const result = await challengeOnce({ claimed, prover, clock, label: `fitting ${t}` });
      expect(result).toMatchObject({ outcome: "fail", reason: "wrong_row" });
    }
  });

  it("a prover that commits to all rows but computes none of them fails", async () => {
    const clock = createVirtualClock();
    const prover = partialRowsProver({ fraction: 0 });
    const result = await challengeOnce({ claimed: profile("sim-cpu"), prover, clock, label: "nothing" });
    expect(result).toMatchObject({ outcome: "fail", reason: "wrong_row" });
  });

  it("an unpaced honest CPU prover is never penalised for being fast", async () => {
    const clock = createVirtualClock();
    const result = await challengeOnce({
      claimed: profile("sim-h100"),
      prover: createCpuProver(),
      clock,
      label: "fast",
    });
    expect(result.outcome).toBe("pass");
  });
});
