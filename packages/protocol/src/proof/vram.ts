import type { HardwareProfile } from "../hardware-profiles.js";
import type { Sha256 } from "./sha256.js";

/**
 * The memory phase of proof of GPU (docs/proof-of-gpu.md, "Memory"): the prover fills a buffer as large as the
 * claimed memory with blocks that are cheap to check one at a time but costly to rebuild, commits to it, walks it
 * with data-dependent reads, commits to the walk, and opens random steps of the walk after the commit.
 *
 * Blocks fall into `lanes` chains: block i (lane i mod lanes) is Expand(H(FILL, seed, i, block i-lanes)) XOR
 * block i-lanes, the first block of a lane using no predecessor. Each lane walks `steps` reads from
 * x_0 = H(WALK, seed, bufferRoot, lane): x_{s+1} = H(STEP, x_s, block[read(x_s)]).
 */

/** The shape of one memory check, sent with the challenge to workers that announced `proof-vram`. */
export interface VramShape {
  readonly blocks: number;
  readonly blockBytes: number;
  readonly lanes: number;
  /** Reads per lane. */
  readonly steps: number;
}

/** Everything the server decides about a memory check. */
export interface VramSize extends VramShape {
  /** Buffer bytes: blocks · blockBytes. */
  readonly bytes: number;
  /** Time a correct device of the claim needs for the fill, its tree and the walk, in ms. */
  readonly expectedMs: number;
  /** Walk steps opened after the commit. */
  readonly openings: number;
}

const encoder = new TextEncoder();
const FILL = encoder.encode("ignis-vram-v1 fill");
const WALK = encoder.encode("ignis-vram-v1 walk");
const STEP = encoder.encode("ignis-vram-v1 step");
const NONE = new Uint8Array(0);
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Walk steps opened per challenge: a prover missing a fraction m of the buffer escapes with (1 − m)^64. */
export const VRAM_OPENINGS = 64;
/**
 * Buffer bytes per claimed GB for simulated profiles (320 KiB for a simulated H100): a real buffer a CPU fills in
 * tens of milliseconds, so tests and `ignis sim` can run several devices in one process within their deadlines.
 */
export const SIMULATED_VRAM_BYTES_PER_GB = 4 * 1024;
/** Share of the claimed memory a real device must hold (the driver and the prover's context keep the rest). */
export const VRAM_REAL_SHARE = 0.9;
/**
 * Hashing throughput of the CPU reference prover over the buffer, bytes per ms: measured at about 29,000 on this
 * project's loaded 2-core CI host (docs/performance.md), so the figure is conservative on an idle CPU.
 */
export const CPU_VRAM_BYTES_PER_MS = 30_000;
/** Assumed hashing throughput of a GPU prover, bytes per ms, until a GPU prover is measured. */
export const GPU_VRAM_BYTES_PER_MS = 100_000_000;

/**
 * Sizes the memory check for `gpuCount` devices of `profile`: the buffer derives from the claimed memory (scaled
 * down for simulated profiles); null when the profile claims no memory.
 */
export function sizeVramCheck(profile: HardwareProfile, gpuCount: number): VramSize | null {
  if (profile.vramGb <= 0) return null;
  const cpu = profile.simulated || profile.proof.backend === "cpu";
  const blockBytes = cpu ? 1024 : 4096;
  const lanes = cpu ? 16 : 4096;
  const bytes = profile.simulated
    ? profile.vramGb * SIMULATED_VRAM_BYTES_PER_GB * gpuCount
    : profile.vramGb * 1e9 * VRAM_REAL_SHARE * gpuCount;
  const blocks = Math.max(4, Math.floor(bytes / blockBytes / lanes)) * lanes;
  const steps = (2 * blocks) / lanes;
  // Fill (one hash and one expansion per block), leaf hashes, and one block hashed per walk step.
  const hashed = blocks * blockBytes * 3 + steps * lanes * blockBytes;
  const expectedMs = hashed / (cpu ? CPU_VRAM_BYTES_PER_MS : GPU_VRAM_BYTES_PER_MS);
  const openings = Math.min(VRAM_OPENINGS, steps * lanes);
  return { blocks, blockBytes, lanes, steps, bytes: blocks * blockBytes, expectedMs, openings };
}

function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** Fills `out` with xoshiro128** output seeded by the first 16 bytes of `key` (little-endian words). */
export function expandKey(key: Uint8Array, out: Uint8Array): void {
  const k = new DataView(key.buffer, key.byteOffset, 16);
  let s0 = k.getUint32(0, true) | 0;
  let s1 = k.getUint32(4, true) | 0;
  let s2 = k.getUint32(8, true) | 0;
  let s3 = k.getUint32(12, true) | 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const count = out.byteLength >>> 2;
  // Little-endian words: a Uint32Array view on little-endian hosts (all Node targets), a DataView elsewhere.
  const fast = LITTLE_ENDIAN && out.byteOffset % 4 === 0;
  const words = fast ? new Uint32Array(out.buffer, out.byteOffset, count) : undefined;
  const view = fast ? undefined : new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < count; i++) {
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    if (words) words[i] = result;
    else view!.setUint32(i * 4, result >>> 0, true);
  }
}

/** Writes block `index` into `out` from its lane predecessor `prev` (null for a lane's first block). */
export function fillBlock(
  seed: Uint8Array,
  index: number,
  prev: Uint8Array | null,
  out: Uint8Array,
  hash: Sha256,
): void {
  expandKey(hash(FILL, seed, u64(index), prev ?? NONE), out);
  if (prev) for (let i = 0; i < out.length; i++) out[i] ^= prev[i];
}

/** The first walk value of `lane`, bound to the committed buffer. */
export function walkStart(seed: Uint8Array, bufferRoot: Uint8Array, lane: number, hash: Sha256): Uint8Array {
  return hash(WALK, seed, bufferRoot, u64(lane));
}

/** The block a walk value reads: its first 48 bits, big-endian, modulo the block count. */
export function readIndex(x: Uint8Array, blocks: number): number {
  const v = new DataView(x.buffer, x.byteOffset, 8);
  return (v.getUint16(0) * 2 ** 32 + v.getUint32(2)) % blocks;
}

/** The next walk value after reading `block`. */
export function walkNext(x: Uint8Array, block: Uint8Array, hash: Sha256): Uint8Array {
  return hash(STEP, x, block);
}

/** Leaf hash of a buffer block or a walk value (the matmul tree's leaf prefix, over raw bytes). */
export function bytesLeaf(bytes: Uint8Array, hash: Sha256): Uint8Array {
  return hash(Uint8Array.of(0x00), bytes);
}
