/**
 * WebGPU prover benchmark: npx tsx bench/webgpu-prover.ts [--software] [--n N] [--inner K] [--batch B]
 *
 * Commits one challenge with the WebGPU prover on the first adapter (a hardware GPU; `--software` accepts Mesa's
 * lavapipe or another software adapter) and with the CPU reference prover, checks that both roots are equal, and
 * prints each one's time and integer operations per second.
 */
import { parseArgs } from "node:util";
import { challengeWorkOps, type ProofChallengeMessage } from "@ignis/protocol/proof";
import { createCpuProver } from "../apps/cli/src/prover/cpu-prover.js";
import { openWebGpuProduct } from "../apps/cli/src/prover/webgpu-product.js";
import { createWebGpuProver } from "../apps/cli/src/prover/webgpu-prover.js";

const { values } = parseArgs({
  options: {
    software: { type: "boolean" },
    n: { type: "string", default: "512" },
    inner: { type: "string", default: "512" },
    batch: { type: "string", default: "2" },
  },
});
const challenge: ProofChallengeMessage = {
  type: "proof.challenge",
  challengeId: "bench",
  seed: "5a".repeat(32),
  bSeed: "a5".repeat(32),
  n: Number(values.n),
  inner: Number(values.inner),
  batch: Number(values.batch),
  deadlineMs: 3_600_000,
};
const gpu = await openWebGpuProduct({ allowSoftware: values.software === true });
if (typeof gpu === "string") {
  console.log(`no WebGPU adapter: ${gpu}`);
  process.exit(1);
}
const ops = challengeWorkOps(challenge);
const time = async (name: string, commit: () => Promise<{ root: string }>) => {
  const start = performance.now();
  const { root } = await commit();
  const ms = performance.now() - start;
  console.log(
    `${name}: ${ms.toFixed(0)} ms, ${(ops / (ms / 1000) / 1e9).toFixed(3)} Gop/s, root ${root.slice(0, 16)}`,
  );
  return root;
};
console.log(
  `challenge n=${challenge.n} inner=${challenge.inner} batch=${challenge.batch} (${ops.toExponential(2)} ops)`,
);
console.log(`adapter: ${gpu.adapter}${gpu.software ? " (software)" : ""}`);
const prover = createWebGpuProver({ gpu });
await time("webgpu (first, with pipeline warm-up)", () =>
  prover.commit({ ...challenge, challengeId: "warm" }),
);
const gpuRoot = await time("webgpu", () => prover.commit(challenge));
const cpuRoot = await time("cpu reference", () => createCpuProver().commit(challenge));
console.log(gpuRoot === cpuRoot ? "roots equal: bit for bit" : "ROOTS DIFFER");
await prover.close();
process.exit(gpuRoot === cpuRoot ? 0 : 1);
