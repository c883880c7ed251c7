import type {
  ProofChallengeMessage,
  ProofCommitMessage,
  ProofRevealMessage,
  ProofRevealRequestMessage,
  Sha256,
} from "@ignis/protocol/proof";
import { fillARow, leafHash, merkleLevels, merkleRoot, toHex } from "@ignis/protocol/proof";
import { IgnisError } from "../../../../packages/protocol/src/errors.js";
import { type ChallengeMatrices, challengeMatrices, productRow } from "./cpu-product.js";
import { nodeSha256 } from "./node-sha256.js";
import type { Prover } from "./prover.js";
import { type ProverClock, systemClock } from "./prover-clock.js";
import { openRows, type RowCommitment } from "./row-commitment.js";
import type { WebGpuProduct } from "./webgpu-product.js";

interface Held {
  readonly matrices: ChallengeMatrices;
  readonly commitment: RowCommitment;
}

/** Options of the WebGPU prover. */
export interface WebGpuProverOptions {
  readonly gpu: WebGpuProduct;
  readonly hash?: Sha256;
  readonly clock?: ProverClock;
  /** Commitments kept for reveals; older ones are forgotten. */
  readonly keep?: number;
}

/**
 * The vendor-neutral prover: each product A_m · B runs on the WebGPU device (webgpu-product.ts), its rows are
 * hashed into the same Merkle commitment as the CPU prover's. A and B are generated on the CPU from the seeds
 * (O(n · inner) per matrix against the product's O(n² · inner)). Revealed rows are recomputed exactly on the CPU;
 * they are bit-identical to the device's, so a device that computed a wrong row fails at the Merkle check.
 */
export function createWebGpuProver(options: WebGpuProverOptions): Prover {
  const { gpu } = options;
  const hash = options.hash ?? nodeSha256;
  const clock = options.clock ?? systemClock;
  const keep = options.keep ?? 2;
  const held = new Map<string, Held>();

  return {
    name: `webgpu (${gpu.adapter})`,
    async commit(challenge: ProofChallengeMessage): Promise<ProofCommitMessage> {
      const started = clock.now();
      const matrices = challengeMatrices(challenge);
      const { n, inner, batch } = matrices;
      const leaves: Uint8Array[] = new Array(batch * n);
      const a = new Int8Array(n * inner);
      for (let m = 0; m < batch; m++) {
        for (let i = 0; i < n; i++) fillARow(a.subarray(i * inner, (i + 1) * inner), matrices.seed, m, i);
        const c = await gpu.product(a, matrices.b, n, inner);
        for (let i = 0; i < n; i++) leaves[m * n + i] = leafHash(c.subarray(i * n, (i + 1) * n), hash);
      }
      const levels = merkleLevels(leaves, hash);
      const commitment: RowCommitment = { n, batch, levels, root: merkleRoot(levels) };
      held.set(challenge.challengeId, { matrices, commitment });
      while (held.size > keep) held.delete(held.keys().next().value as string);
      return {
        type: "proof.commit",
        challengeId: challenge.challengeId,
        root: toHex(commitment.root),
        elapsedMs: clock.now() - started,
      };
    },
    async reveal(request: ProofRevealRequestMessage): Promise<ProofRevealMessage> {
      const state = held.get(request.challengeId);
      if (!state) throw new IgnisError("not_found", "no commitment for this challenge");
      return openRows(state.commitment, request, (m, i) => productRow(state.matrices, m, i));
    },
    async close() {
      held.clear();
      gpu.close();
    },
  };
}
