/**
 * Counter-based generator of the challenge matrices (proof-of-GPU v1).
 *
 * Every entry is a pure function of (seed, matrix, row, col) built from the murmur3 32-bit finaliser, so a
 * GPU thread, the CPU prover and the verifier all produce the same value for any entry without generating
 * the others. The specification in docs/proof-of-gpu.md ("Generator") is normative; this file implements it.
 */

/** Smallest entry value: entries are uniform over the 32 integers -16..15 (5 bits). */
export const ENTRY_MIN = -16;
/** Largest entry magnitude: bounds |C[i][j]| ≤ ENTRY_MAX_ABS² · n. */
export const ENTRY_MAX_ABS = 16;
/** Matrix index of the shared matrix B inside the bSeed stream; A_m uses m = 0 .. batch-1 of the seed stream. */
export const B_MATRIX_INDEX = 0xffffffff;

const LANE_LO_INIT = 0x243f6a88;
const LANE_HI_INIT = 0xb7e15162;
const GOLDEN = 0x9e3779b9;

/** The murmur3 32-bit finaliser: a bijection on uint32 with full avalanche. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function absorb(h: number, w: number): number {
  return fmix32(((h ^ w) + GOLDEN) >>> 0);
}

/** The two 32-bit lanes after absorbing the eight seed words; computed once per seed. */
export interface SeedState {
  readonly lo: number;
  readonly hi: number;
}

/** Absorbs a 32-byte seed (eight little-endian uint32 words, in order) into both lanes. */
export function seedState(seed: Uint8Array): SeedState {
  if (seed.length !== 32) throw new RangeError("proof seeds are exactly 32 bytes");
  let lo = LANE_LO_INIT;
  let hi = LANE_HI_INIT;
  for (let t = 0; t < 8; t++) {
    const w =
      (seed[4 * t] | (seed[4 * t + 1] << 8) | (seed[4 * t + 2] << 16) | (seed[4 * t + 3] << 24)) >>> 0;
    lo = absorb(lo, w);
    hi = absorb(hi, w);
  }
  return { lo, hi };
}

/** The 64-bit key of one row (matrix m, row i): both lanes absorb m, then i. */
export function rowKey(state: SeedState, matrix: number, row: number): SeedState {
  return {
    lo: absorb(absorb(state.lo, matrix >>> 0), row >>> 0),
    hi: absorb(absorb(state.hi, matrix >>> 0), row >>> 0),
  };
}

/** Mixes the group index g = ⌊col/4⌋ into the 32-bit word that holds entries 4g .. 4g+3 of a row. */
export function groupWord(key: SeedState, group: number): number {
  return fmix32((fmix32((group ^ key.lo) >>> 0) + key.hi) >>> 0);
}

/** One entry of a row given its key: bits 3..7 of byte (col mod 4) of the group word, shifted to -16..15. */
export function entryAt(key: SeedState, col: number): number {
  return ((groupWord(key, col >>> 2) >>> (8 * (col & 3) + 3)) & 31) + ENTRY_MIN;
}

/** Fills `out` (length a multiple of 4) with row `row` of matrix `matrix` of the stream keyed by `state`. */
export function fillRow(out: Int8Array, state: SeedState, matrix: number, row: number): Int8Array {
  if (out.length % 4 !== 0) throw new RangeError("row lengths are multiples of 4");
  const key = rowKey(state, matrix, row);
  const lo = key.lo;
  const hi = key.hi;
  for (let g = 0, j = 0; j < out.length; g++, j += 4) {
    // Inlined groupWord: this loop generates all of B once per verifier key, so it is the hot path.
    let h = (g ^ lo) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    h = ((h >>> 0) + hi) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    out[j] = ((h >>> 3) & 31) + ENTRY_MIN;
    out[j + 1] = ((h >>> 11) & 31) + ENTRY_MIN;
    out[j + 2] = ((h >>> 19) & 31) + ENTRY_MIN;
    out[j + 3] = ((h >>> 27) & 31) + ENTRY_MIN;
  }
  return out;
}

/** Row `row` of A_matrix for a challenge seed. */
export function fillARow(out: Int8Array, seed: SeedState, matrix: number, row: number): Int8Array {
  return fillRow(out, seed, matrix, row);
}

/** Row `row` of the shared matrix B for a B seed. */
export function fillBRow(out: Int8Array, bSeed: SeedState, row: number): Int8Array {
  return fillRow(out, bSeed, B_MATRIX_INDEX, row);
}
