import {
  bytesEqual,
  bytesLeaf,
  fillBlock,
  fromHex,
  type OpenedStep,
  type ProofRevealMessage,
  type ProofRevealRequestMessage,
  type ProofVramCommitMessage,
  readIndex,
  rootFromProof,
  type Sha256,
  type VramSize,
  walkNext,
  walkStart,
} from "@ignis/protocol/proof";
import { nodeSha256 } from "./node-sha256.js";

/** The memory phase's verdict: how many opened steps were right, and what was wrong with the first bad one. */
export type MemoryVerdict = { ok: true; checked: number } | { ok: false; checked: number; detail: string };

/** Everything the memory check is judged on. */
export interface MemoryToVerify {
  readonly seed: Uint8Array;
  readonly vram: VramSize;
  readonly memoryCommit: ProofVramCommitMessage | undefined;
  readonly request: ProofRevealRequestMessage;
  readonly reveal: ProofRevealMessage;
}

/**
 * Verifies the opened walk steps (protocol vram.ts): each x_s and x_s+1 opens the committed walk root, x_0 is
 * the start the seed and the buffer root give, the block x_s reads and its lane predecessor open the committed
 * buffer root, the block is the fill of its predecessor, and x_s+1 = H(x_s, block). Cost per step: two block
 * hashes, one expansion and four Merkle paths, whatever the buffer's size.
 */
export function verifyMemory(input: MemoryToVerify, hash: Sha256 = nodeSha256): MemoryVerdict {
  const { vram, memoryCommit, request, reveal } = input;
  if (!memoryCommit) return { ok: false, checked: 0, detail: "no memory roots were committed" };
  const asked = request.vram ?? [];
  const opened = reveal.vram ?? [];
  if (opened.length !== asked.length)
    return { ok: false, checked: 0, detail: "step count differs from the request" };
  const bufferRoot = fromHex(memoryCommit.bufferRoot);
  const walkRoot = fromHex(memoryCommit.walkRoot);
  const walkLeaves = vram.lanes * (vram.steps + 1);
  for (let k = 0; k < opened.length; k++) {
    const step = opened[k];
    const where = `step ${k} (lane ${asked[k].lane}, step ${asked[k].step})`;
    const bad = (what: string): MemoryVerdict => ({ ok: false, checked: k, detail: `${where} ${what}` });
    if (step.lane !== asked[k].lane || step.step !== asked[k].step) return bad("is not the requested step");
    const at = step.lane * (vram.steps + 1) + step.step;
    const x = fromHex(step.x);
    const next = fromHex(step.next);
    if (!opens(bytesLeaf(x, hash), at, walkLeaves, step.xProof, walkRoot, hash))
      return bad("x does not open the walk root");
    if (!opens(bytesLeaf(next, hash), at + 1, walkLeaves, step.nextProof, walkRoot, hash))
      return bad("next does not open the walk root");
    if (step.step === 0 && !bytesEqual(x, walkStart(input.seed, bufferRoot, step.lane, hash)))
      return bad("does not start where the seed and buffer root say");
    const index = readIndex(x, vram.blocks);
    const block = blockOf(step.read, vram.blockBytes);
    if (!block || !opens(bytesLeaf(block, hash), index, vram.blocks, step.read.proof, bufferRoot, hash))
      return bad(`read block ${index} does not open the buffer root`);
    let prev: Uint8Array | null = null;
    if (index >= vram.lanes) {
      prev = step.prev ? blockOf(step.prev, vram.blockBytes) : null;
      if (
        !prev ||
        !opens(bytesLeaf(prev, hash), index - vram.lanes, vram.blocks, step.prev!.proof, bufferRoot, hash)
      )
        return bad(`block ${index - vram.lanes} does not open the buffer root`);
    }
    const expected = new Uint8Array(vram.blockBytes);
    fillBlock(input.seed, index, prev, expected, hash);
    if (!bytesEqual(expected, block)) return bad(`block ${index} is not the fill of its predecessor`);
    if (!bytesEqual(next, walkNext(x, block, hash))) return bad("next is not the read of the block");
  }
  return { ok: true, checked: opened.length };
}

function blockOf(opened: OpenedStep["read"], blockBytes: number): Uint8Array | null {
  const bytes = new Uint8Array(Buffer.from(opened.block, "base64"));
  return bytes.length === blockBytes ? bytes : null;
}

function opens(
  leaf: Uint8Array,
  index: number,
  leafCount: number,
  proof: readonly string[],
  root: Uint8Array,
  hash: Sha256,
): boolean {
  try {
    const computed = rootFromProof(leaf, index, leafCount, proof.map(fromHex), hash);
    return computed !== null && bytesEqual(computed, root);
  } catch {
    return false;
  }
}
