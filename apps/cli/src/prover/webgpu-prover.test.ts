import { fillARow, type ProofChallengeMessage, proofTestVectors } from "@ignis/protocol/proof";
import { afterAll, describe, expect, it } from "vitest";
import { challengeMatrices, productRow } from "./cpu-product.js";
import { createCpuProver } from "./cpu-prover.js";
import { openWebGpuProduct, packColumns, packRows } from "./webgpu-product.js";
import { createWebGpuProver } from "./webgpu-prover.js";

const challenge = (
  name: string,
  shape: { seed: string; bSeed: string; n: number; inner: number; batch: number },
) =>
  ({
    type: "proof.challenge",
    challengeId: name,
    deadlineMs: 60_000,
    ...shape,
  }) satisfies ProofChallengeMessage;

// A software adapter (Mesa's lavapipe) is enough to check exactness; speed is a GPU's business (bench/).
const gpu = await openWebGpuProduct({ allowSoftware: true });
if (typeof gpu === "string") {
  console.log(
    `skipping the WebGPU prover tests: ${gpu} (install mesa-vulkan-drivers from Mesa 24 or later for lavapipe)`,
  );
}

describe("packing int8 entries for the kernel", () => {
  it("puts entry l of a row in byte l mod 4 of word l / 4, two's complement, zero-padded", () => {
    const m = Int8Array.from([1, -1, 15, -16, 7]);
    expect(Array.from(packRows(m, 1, 5))).toEqual([0xf00fff01, 0x07]);
    // B is 2 × 3; its columns are packed along the inner dimension.
    const b = Int8Array.from([1, 2, 3, -1, -2, -3]);
    expect(Array.from(packColumns(b, 2, 3))).toEqual([0xff01, 0xfe02, 0xfd03]);
  });
});

describe.skipIf(typeof gpu === "string")("the WebGPU prover", () => {
  const device = gpu as Exclude<typeof gpu, string>;
  afterAll(() => device.close());

  it("reproduces the root, rows and proofs of every test vector bit for bit", async () => {
    const prover = createWebGpuProver({ gpu: device });
    for (const v of proofTestVectors) {
      const commit = await prover.commit(challenge(v.name, v));
      expect(commit).toMatchObject({ type: "proof.commit", challengeId: v.name, root: v.root });
      const reveal = await prover.reveal({
        type: "proof.reveal-request",
        challengeId: v.name,
        rows: v.rows.map(({ matrix, row }) => ({ matrix, row })),
      });
      expect(reveal.rows).toEqual(v.rows);
    }
  });

  it("computes every row of a product whose sizes are not multiples of the 16 × 16 tile, as the CPU does", async () => {
    const c = challenge("odd", {
      seed: "ab".repeat(32),
      bSeed: "cd".repeat(32),
      n: 36,
      inner: 204,
      batch: 1,
    });
    const m = challengeMatrices(c);
    const a = new Int8Array(m.n * m.inner);
    for (let i = 0; i < m.n; i++) fillARow(a.subarray(i * m.inner, (i + 1) * m.inner), m.seed, 0, i);
    const product = await device.product(a, m.b, m.n, m.inner);
    for (let i = 0; i < m.n; i++) {
      expect(Array.from(product.subarray(i * m.n, (i + 1) * m.n))).toEqual(Array.from(productRow(m, 0, i)));
    }
  });

  it("commits to the CPU prover's root on a larger challenge", async () => {
    const c = challenge("larger", {
      seed: "01".repeat(32),
      bSeed: "02".repeat(32),
      n: 112,
      inner: 144,
      batch: 3,
    });
    const [gpuCommit, cpuCommit] = [
      await createWebGpuProver({ gpu: device }).commit(c),
      await createCpuProver().commit(c),
    ];
    expect(gpuCommit.root).toBe(cpuCommit.root);
  });
});
