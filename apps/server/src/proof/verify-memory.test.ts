import { describe, expect, it } from "vitest";
import { findHardwareProfile } from "../../../../packages/protocol/src/hardware-profiles.js";
import { vramShortProver } from "../../../cli/src/prover/adversary-provers.js";
import { createCpuProver } from "../../../cli/src/prover/cpu-prover.js";
import type { Prover } from "../../../cli/src/prover/prover.js";
import { createChallenge } from "./challenge.js";
import { seededRandom } from "./random-source.js";
import { chooseRevealRows } from "./reveal-selection.js";
import { createVerifierKeyring } from "./verifier-key.js";
import { verifyReveal } from "./verify-reveal.js";

const keyring = createVerifierKeyring({ random: seededRandom("memory keys") });

async function exchange(label: string, prover: Prover, profile = "sim-rtx4090", provesMemory = true) {
  const challenge = createChallenge({
    profile: findHardwareProfile(profile)!,
    gpuCount: 1,
    rttMs: 0,
    keyring,
    nowMs: 0,
    random: seededRandom(label),
    provesMemory,
  });
  const commit = await prover.commit(challenge.message);
  const memoryCommit = challenge.message.vram ? await prover.commitMemory!(challenge.message) : undefined;
  const request = chooseRevealRows(challenge, commit, seededRandom(`${label} rows`));
  const reveal = await prover.reveal(request);
  const at = challenge.size.deadlineMs;
  const result = verifyReveal({
    challenge,
    commit,
    commitReceivedAtMs: at,
    request,
    requestSentAtMs: at,
    reveal,
    revealReceivedAtMs: at + 5,
    ...(memoryCommit ? { memoryCommit } : {}),
  });
  return { challenge, commit, memoryCommit, request, reveal, result };
}

describe("the memory phase of proof of GPU", () => {
  it("sizes the buffer from the claimed memory, and only for workers that announced the phase", async () => {
    const { challenge } = await exchange("size", createCpuProver());
    // 24 GB claimed, 4 KiB per claimed GB for a simulated profile: 96 KiB in 1 KiB blocks over 16 lanes.
    expect(challenge.vram).toMatchObject({
      bytes: 24 * 4 * 1024,
      blockBytes: 1024,
      lanes: 16,
      openings: 64,
    });
    expect(challenge.message.vram).toMatchObject({ blocks: 96, blockBytes: 1024, lanes: 16, steps: 12 });
    const without = createChallenge({
      profile: findHardwareProfile("sim-rtx4090")!,
      gpuCount: 1,
      rttMs: 0,
      keyring,
      nowMs: 0,
      random: seededRandom("size"),
    });
    expect(without.vram).toBeNull();
    expect(without.message).not.toHaveProperty("vram");
  });

  it("passes an honest prover that holds the whole buffer, checking every opened step", async () => {
    const { result, reveal, request } = await exchange("honest", createCpuProver());
    expect(result).toMatchObject({ outcome: "pass", reason: null });
    expect(request.vram).toHaveLength(64);
    expect(reveal.vram).toHaveLength(64);
  });

  it("fails a prover that holds half the buffer and guesses the rest with vram_short", async () => {
    const { result } = await exchange("half", vramShortProver({ fraction: 0.5 }));
    expect(result).toMatchObject({ outcome: "fail", reason: "vram_short" });
    expect(result.detail).toMatch(/next is not the read of the block/);
  });

  it("fails a prover that holds a tenth of the buffer on the very first opened steps", async () => {
    const { result } = await exchange("tenth", vramShortProver({ fraction: 0.1 }));
    expect(result).toMatchObject({ outcome: "fail", reason: "vram_short" });
    expect(result.rowsChecked).toBeLessThan(10);
  });

  it("passes a prover that rebuilds every block it does not hold: only the time bound can tell it", async () => {
    const { result } = await exchange("rebuild", vramShortProver({ fraction: 0.5, missing: "rebuild" }));
    expect(result).toMatchObject({ outcome: "pass" });
  });

  it("fails a reveal whose opened block was swapped for another one, and one without memory roots", async () => {
    const honest = await exchange("swap", createCpuProver());
    const steps = honest.reveal.vram!;
    const other = steps.find((s) => s.read.block !== steps[0].read.block)!;
    const swapped = { ...honest.reveal, vram: [{ ...steps[0], read: other.read }, ...steps.slice(1)] };
    const at = honest.challenge.size.deadlineMs;
    const verify = (reveal: typeof honest.reveal, withRoots: boolean) =>
      verifyReveal({
        challenge: honest.challenge,
        commit: honest.commit,
        commitReceivedAtMs: at,
        request: honest.request,
        requestSentAtMs: at,
        reveal,
        revealReceivedAtMs: at,
        ...(withRoots ? { memoryCommit: honest.memoryCommit! } : {}),
      });
    expect(verify(swapped, true)).toMatchObject({ outcome: "fail", reason: "vram_short" });
    expect(verify(honest.reveal, false)).toMatchObject({
      outcome: "fail",
      reason: "vram_short",
      detail: "no memory roots were committed",
    });
  });

  it("keeps the row commit's deadline and gives the memory roots their own, later one", async () => {
    const { challenge } = await exchange("deadlines", createCpuProver());
    const without = createChallenge({
      profile: findHardwareProfile("sim-rtx4090")!,
      gpuCount: 1,
      rttMs: 0,
      keyring,
      nowMs: 0,
      random: seededRandom("deadlines"),
    });
    expect(challenge.size.deadlineMs).toBe(without.size.deadlineMs);
    expect(challenge.message.vram!.deadlineMs).toBeGreaterThan(challenge.size.deadlineMs);
  });
});
