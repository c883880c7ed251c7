/**
 * Memory phase (VRAM proof) benchmark: npx tsx bench/vram-phase.ts
 *
 * For each simulated profile with memory: the CPU prover's time to fill, commit and walk the buffer the claim
 * asks for, against the sizing's expected time; the server's time to verify the 64 opened steps; and the time a
 * prover holding half or a tenth of the buffer needs when it rebuilds every block it dropped (right answers,
 * caught only by the time bound).
 */

import { findHardwareProfile, hardwareProfiles } from "@ignis/protocol";
import { vramShortProver } from "../apps/cli/src/prover/adversary-provers.js";
import { createCpuProver } from "../apps/cli/src/prover/cpu-prover.js";
import type { Prover } from "../apps/cli/src/prover/prover.js";
import { createChallenge } from "../apps/server/src/proof/challenge.js";
import { seededRandom } from "../apps/server/src/proof/random-source.js";
import { chooseRevealRows } from "../apps/server/src/proof/reveal-selection.js";
import { createVerifierKeyring } from "../apps/server/src/proof/verifier-key.js";
import { verifyMemory } from "../apps/server/src/proof/verify-memory.js";

const keyring = createVerifierKeyring({ random: seededRandom("bench keys") });

async function run(profileId: string, prover: Prover) {
  const challenge = createChallenge({
    profile: findHardwareProfile(profileId)!,
    gpuCount: 1,
    rttMs: 0,
    keyring,
    nowMs: 0,
    random: seededRandom(profileId),
    provesMemory: true,
  });
  const started = performance.now();
  const commit = await prover.commit(challenge.message);
  const memoryCommit = await prover.commitMemory!(challenge.message);
  const proveMs = performance.now() - started;
  const request = chooseRevealRows(challenge, commit, seededRandom(`${profileId} rows`));
  const reveal = await prover.reveal(request);
  const verifyStarted = performance.now();
  const verdict = verifyMemory({
    seed: challenge.seed,
    vram: challenge.vram!,
    memoryCommit,
    request,
    reveal,
  });
  const verifyMs = performance.now() - verifyStarted;
  return { challenge, proveMs, verifyMs, ok: verdict.ok };
}

console.log("profile      buffer    expected  honest   verify  half-rebuild  tenth-rebuild");
for (const profile of hardwareProfiles.filter((p) => p.simulated && p.vramGb > 0)) {
  await run(profile.id, createCpuProver()); // warm-up
  const honest = await run(profile.id, createCpuProver());
  const half = await run(profile.id, vramShortProver({ fraction: 0.5, missing: "rebuild" }));
  const tenth = await run(profile.id, vramShortProver({ fraction: 0.1, missing: "rebuild" }));
  const vram = honest.challenge.vram!;
  console.log(
    [
      profile.id.padEnd(12),
      `${(vram.bytes / 1024).toFixed(0)} KiB`.padStart(8),
      `${vram.expectedMs.toFixed(0)} ms`.padStart(9),
      `${honest.proveMs.toFixed(0)} ms`.padStart(8),
      `${honest.verifyMs.toFixed(1)} ms`.padStart(8),
      `${half.proveMs.toFixed(0)} ms`.padStart(13),
      `${tenth.proveMs.toFixed(0)} ms`.padStart(14),
      honest.ok && half.ok && tenth.ok ? "" : "(a verdict failed!)",
    ].join(" "),
  );
}
