import {
  bytesLeaf,
  fillBlock,
  merkleLevels,
  merkleProof,
  merkleRoot,
  type OpenedStep,
  type ProofRevealRequestMessage,
  readIndex,
  type Sha256,
  toHex,
  type VramShape,
  walkNext,
  walkStart,
} from "@ignis/protocol/proof";
import { IgnisError } from "../../../../packages/protocol/src/errors.js";

/**
 * The prover's side of the memory phase (protocol vram.ts): fill the buffer, commit to it, walk it, commit to the
 * walk, and open the steps the server names. An honest prover holds every block; an adversary (adversary-provers.ts)
 * holds some and guesses or rebuilds the others.
 */

/** Which blocks a prover keeps, and what it does when the walk reads one it did not keep. */
export interface MemoryPolicy {
  /** True for the blocks held in memory; all of them when absent. */
  readonly keep?: (index: number) => boolean;
  /** `guess`: read zeros instead (fast, wrong); `rebuild`: recompute the block from its lane's start (slow, right). */
  readonly missing?: "guess" | "rebuild";
}

/** A committed buffer and walk, kept until the reveal. */
export interface MemoryCommitment {
  readonly shape: VramShape;
  readonly seed: Uint8Array;
  readonly bufferLevels: Uint8Array[][];
  readonly walkLevels: Uint8Array[][];
  /** x values, lane-major: lane l's x_s at l · (steps + 1) + s. */
  readonly walk: Uint8Array[];
  readonly bufferRoot: Uint8Array;
  readonly walkRoot: Uint8Array;
  /** A block as the prover can produce it at reveal time (rebuilt when it was not kept). */
  block(index: number): Uint8Array;
}

/** Fills, commits and walks; yields to the event loop now and then so the worker keeps heartbeating. */
export async function buildMemoryCommitment(
  shape: VramShape,
  seed: Uint8Array,
  hash: Sha256,
  policy: MemoryPolicy = {},
): Promise<MemoryCommitment> {
  const { blocks, blockBytes, lanes, steps } = shape;
  const keepAll = !policy.keep;
  // The honest prover's buffer is one allocation of the claimed size: the memory the phase is about.
  const buffer = keepAll ? new Uint8Array(blocks * blockBytes) : undefined;
  const kept = new Map<number, Uint8Array>();
  const leaves: Uint8Array[] = new Array(blocks);
  const lanePrev: (Uint8Array | null)[] = new Array(lanes).fill(null);
  for (let i = 0; i < blocks; i++) {
    const lane = i % lanes;
    const out = buffer ? buffer.subarray(i * blockBytes, (i + 1) * blockBytes) : new Uint8Array(blockBytes);
    fillBlock(seed, i, lanePrev[lane], out, hash);
    lanePrev[lane] = out;
    leaves[i] = bytesLeaf(out, hash);
    if (!buffer && policy.keep!(i)) kept.set(i, out);
    if (i % 4096 === 4095) await yieldNow();
  }
  const bufferLevels = merkleLevels(leaves, hash);
  const bufferRoot = merkleRoot(bufferLevels);

  const rebuild = (index: number): Uint8Array => {
    let prev: Uint8Array | null = null;
    const out = new Uint8Array(blockBytes);
    for (let i = index % lanes; i <= index; i += lanes) {
      fillBlock(seed, i, prev, out, hash);
      prev = out.slice();
    }
    return out;
  };
  const zeros = new Uint8Array(blockBytes);
  const held = (index: number): Uint8Array | undefined =>
    buffer ? buffer.subarray(index * blockBytes, (index + 1) * blockBytes) : kept.get(index);
  const read = (index: number): Uint8Array =>
    held(index) ?? (policy.missing === "rebuild" ? rebuild(index) : zeros);

  const walk: Uint8Array[] = new Array(lanes * (steps + 1));
  for (let lane = 0; lane < lanes; lane++) {
    let x = walkStart(seed, bufferRoot, lane, hash);
    walk[lane * (steps + 1)] = x;
    for (let s = 0; s < steps; s++) {
      x = walkNext(x, read(readIndex(x, blocks)), hash);
      walk[lane * (steps + 1) + s + 1] = x;
    }
    await yieldNow();
  }
  const walkLevels = merkleLevels(
    walk.map((x) => bytesLeaf(x, hash)),
    hash,
  );
  return {
    shape,
    seed,
    bufferLevels,
    walkLevels,
    walk,
    bufferRoot,
    walkRoot: merkleRoot(walkLevels),
    block: (index) => held(index) ?? rebuild(index),
  };
}

/** Opens the walk steps a reveal request names. */
export function openSteps(
  commitment: MemoryCommitment,
  asked: NonNullable<ProofRevealRequestMessage["vram"]>,
): OpenedStep[] {
  const { blocks, lanes, steps } = commitment.shape;
  const opened = (index: number) => ({
    block: Buffer.from(commitment.block(index)).toString("base64"),
    proof: merkleProof(commitment.bufferLevels, index).map(toHex),
  });
  return asked.map(({ lane, step }) => {
    if (lane >= lanes || step >= steps) throw new IgnisError("bad_request", "the step is outside the walk");
    const at = lane * (steps + 1) + step;
    const x = commitment.walk[at];
    const index = readIndex(x, blocks);
    return {
      lane,
      step,
      x: toHex(x),
      xProof: merkleProof(commitment.walkLevels, at).map(toHex),
      next: toHex(commitment.walk[at + 1]),
      nextProof: merkleProof(commitment.walkLevels, at + 1).map(toHex),
      read: opened(index),
      prev: index >= lanes ? opened(index - lanes) : null,
    };
  });
}

function yieldNow(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
