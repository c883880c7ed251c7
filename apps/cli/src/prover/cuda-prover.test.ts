import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type ProofTestVector, proofTestVectors } from "@ignis/protocol/proof";
import { describe, expect, it } from "vitest";
import { createCudaProver, cudaBinaryPresent, defaultCudaBinaryPath } from "./cuda-prover.js";
import type { Prover } from "./prover.js";

const fakeBinary = fileURLToPath(new URL("./fake-cuda-binary.ts", import.meta.url));

async function expectVectors(prover: Prover, vectors: readonly ProofTestVector[]) {
  for (const v of vectors) {
    const commit = await prover.commit({
      type: "proof.challenge",
      challengeId: v.name,
      seed: v.seed,
      bSeed: v.bSeed,
      n: v.n,
      inner: v.inner,
      batch: v.batch,
      deadlineMs: 1000,
    });
    expect(commit.root).toBe(v.root);
    const reveal = await prover.reveal({
      type: "proof.reveal-request",
      challengeId: v.name,
      rows: v.rows.map(({ matrix, row }) => ({ matrix, row })),
    });
    expect(reveal).toEqual({ type: "proof.reveal", challengeId: v.name, rows: v.rows });
  }
}

describe("the CUDA prover wrapper, against a stand-in process speaking the same line protocol", () => {
  it("commits and reveals through the process and reports its device", async () => {
    const prover = await createCudaProver({
      binaryPath: process.execPath,
      args: ["--import", "tsx", fakeBinary],
    });
    try {
      expect(prover.info.device).toBe("fake GPU (CPU prover)");
      await expectVectors(prover, proofTestVectors.slice(0, 2));
    } finally {
      await prover.close();
    }
  });

  it("turns the process's refusal into an error and survives it", async () => {
    const prover = await createCudaProver({
      binaryPath: process.execPath,
      args: ["--import", "tsx", fakeBinary],
    });
    try {
      const request = {
        type: "proof.reveal-request" as const,
        challengeId: "never",
        rows: [{ matrix: 0, row: 0 }],
      };
      await expect(prover.reveal(request)).rejects.toMatchObject({ code: "internal" });
      await expectVectors(prover, proofTestVectors.slice(0, 1));
    } finally {
      await prover.close();
    }
  });

  it("fails cleanly when the binary cannot start", async () => {
    await expect(createCudaProver({ binaryPath: "/nonexistent/pogpu" })).rejects.toMatchObject({
      code: "unavailable",
    });
  });
});

const binary = defaultCudaBinaryPath();
const skipReason = !cudaBinaryPresent(binary)
  ? `no CUDA prover at ${binary} (build it with apps/cli/native/cuda/build.sh on a machine with nvcc)`
  : gpuMissing();

function gpuMissing(): string | null {
  try {
    execFileSync("nvidia-smi", ["-L"], { stdio: "ignore" });
    return null;
  } catch {
    return "nvidia-smi finds no GPU";
  }
}

if (skipReason) console.info(`skipping the real CUDA prover test: ${skipReason}`);

describe.skipIf(skipReason !== null)("the real CUDA prover", () => {
  it("reproduces every test vector bit for bit", async () => {
    const prover = await createCudaProver({ binaryPath: binary });
    try {
      await expectVectors(prover, proofTestVectors);
    } finally {
      await prover.close();
    }
  });
});
