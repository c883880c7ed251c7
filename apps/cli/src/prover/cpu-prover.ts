import type {
  ProofChallengeMessage,
  ProofCommitMessage,
  ProofRevealMessage,
  ProofRevealRequestMessage,
  ProofVramCommitMessage,
  Sha256,
} from "@ignis/protocol/proof";
import { challengeWorkOps, fromHex, toHex } from "@ignis/protocol/proof";
import { IgnisError } from "../../../../packages/protocol/src/errors.js";
import { type ChallengeMatrices, challengeMatrices, productRow } from "./cpu-product.js";
import {
  buildMemoryCommitment,
  type MemoryCommitment,
  type MemoryPolicy,
  openSteps,
} from "./memory-commitment.js";
import { nodeSha256 } from "./node-sha256.js";
import type { Prover } from "./prover.js";
import { type ProverClock, systemClock } from "./prover-clock.js";
import { buildRowCommitment, openRows, type RowCommitment } from "./row-commitment.js";

/** Options of the CPU reference prover. */
export interface CpuProverOptions {
  readonly hash?: Sha256;
  readonly clock?: ProverClock;
  /** Commitments kept for reveals; older ones are forgotten. */
  readonly keep?: number;
  /**
   * Operations per second this prover can reach at best (default 2·10^9, above what one core does). A
   * challenge needing more than GIVE_UP_FACTOR times its deadline at that rate is refused at once instead
   * of burning hours of CPU on a commit that cannot arrive in time (a GPU challenge after a fallback).
   */
  readonly bestOpsPerSecond?: number;
  /** Which buffer blocks the memory phase keeps (adversaries keep fewer); all of them by default. */
  readonly memory?: MemoryPolicy;
}

/** How far past its deadline a challenge may look before the CPU prover refuses it. */
export const GIVE_UP_FACTOR = 10;

interface Held {
  readonly matrices: ChallengeMatrices;
  readonly commitment: RowCommitment;
  memory?: MemoryCommitment;
}

/**
 * The reference prover in TypeScript: exact int32 products of generated int8 rows, one core. Fast enough
 * for simulated profiles and the cpu-generic profile; it is also the oracle the GPU provers are checked against.
 * Rows are recomputed at reveal time (O(inner · n) each) instead of being stored.
 */
export function createCpuProver(options: CpuProverOptions = {}): Prover {
  const hash = options.hash ?? nodeSha256;
  const clock = options.clock ?? systemClock;
  const keep = options.keep ?? 2;
  const held = new Map<string, Held>();

  return {
    name: "cpu",
    provesMemory: true,
    async commit(challenge: ProofChallengeMessage): Promise<ProofCommitMessage> {
      const bestMs = (challengeWorkOps(challenge) / (options.bestOpsPerSecond ?? 2e9)) * 1000;
      if (bestMs > GIVE_UP_FACTOR * challenge.deadlineMs) {
        throw new IgnisError("unavailable", "the challenge is far beyond what the CPU prover can do in time");
      }
      const started = clock.now();
      const matrices = challengeMatrices(challenge);
      const scratch = new Int8Array(matrices.inner);
      const commitment = await buildRowCommitment(
        matrices,
        (m, i) => productRow(matrices, m, i, scratch),
        hash,
      );
      // Forget older commitments before filling a new buffer, so at most `keep` buffers are ever held.
      while (held.size >= keep) held.delete(held.keys().next().value as string);
      held.set(challenge.challengeId, { matrices, commitment });
      return {
        type: "proof.commit",
        challengeId: challenge.challengeId,
        root: toHex(commitment.root),
        elapsedMs: clock.now() - started,
      };
    },
    async commitMemory(challenge: ProofChallengeMessage): Promise<ProofVramCommitMessage> {
      const state = held.get(challenge.challengeId);
      if (!state || !challenge.vram) throw new IgnisError("not_found", "no commitment for this challenge");
      const started = clock.now();
      state.memory = await buildMemoryCommitment(
        challenge.vram,
        fromHex(challenge.seed),
        hash,
        options.memory,
      );
      return {
        type: "proof.vram-commit",
        challengeId: challenge.challengeId,
        bufferRoot: toHex(state.memory.bufferRoot),
        walkRoot: toHex(state.memory.walkRoot),
        elapsedMs: clock.now() - started,
      };
    },
    async reveal(request: ProofRevealRequestMessage): Promise<ProofRevealMessage> {
      const state = held.get(request.challengeId);
      if (!state) throw new IgnisError("not_found", "no commitment for this challenge");
      const reveal = openRows(state.commitment, request, (m, i) => productRow(state.matrices, m, i));
      if (!request.vram || !state.memory) return reveal;
      return { ...reveal, vram: openSteps(state.memory, request.vram) };
    },
    async close() {
      held.clear();
    },
  };
}
