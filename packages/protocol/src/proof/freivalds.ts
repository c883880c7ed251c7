import { ENTRY_MAX_ABS, ENTRY_MIN, fillBRow, rowKey, type SeedState } from "./generator.js";

/**
 * Freivalds' check of single product rows, exact in IEEE doubles.
 *
 * Shapes: A_m is n × inner, B is inner × n, C_m = A_m·B is n × n. With |A|,|B| ≤ 2^4, 0 ≤ r < 2^16 and
 * n · inner ≤ MAX_PROOF_CELLS = 2^29: |(B·r)_l| < n·2^4·2^16 = 2^20·n, so every partial sum of a·(B·r) is
 * below inner·2^4·2^20·n ≤ 2^53. A revealed row is rejected unless every entry satisfies |c| ≤ 2^8·inner,
 * so every partial sum of c·r is below n·2^8·inner·2^16 ≤ 2^53 as well. All values are integers below 2^53,
 * hence every product and sum below is exact.
 */

/** Bits of each entry of the random vector r; a wrong row passes with probability at most 2^-16. */
export const FREIVALDS_R_BITS = 16;
/** Largest row length n (columns of B and C). */
export const MAX_PROOF_N = 1 << 14;
/** Largest inner dimension: keeps |C| ≤ 2^8·inner ≤ 2^24, so fp32 accumulation stays exact. */
export const MAX_PROOF_INNER = 1 << 16;
/** Largest n · inner for which the double-precision bounds above hold. */
export const MAX_PROOF_CELLS = 1 << 29;

/** Largest |C[i][j]| a correct product can have: |a|·|b| ≤ 256 summed over `inner` terms. */
export function maxProductMagnitude(inner: number): number {
  return ENTRY_MAX_ABS * ENTRY_MAX_ABS * inner;
}

/** The random vector r from 2·n random bytes: entry j is the little-endian uint16 at bytes 2j, 2j+1. */
export function freivaldsVector(n: number, randomBytes: Uint8Array): Float64Array {
  if (randomBytes.length < 2 * n) throw new RangeError("freivaldsVector needs 2·n random bytes");
  const r = new Float64Array(n);
  for (let j = 0; j < n; j++) r[j] = randomBytes[2 * j] | (randomBytes[2 * j + 1] << 8);
  return r;
}

/**
 * B·r (length inner) for the B of `bSeed`, generating B one row at a time: O(inner·n) time, O(n) memory.
 * Done once per verifier key and shared by every challenge that uses the key.
 */
export function multiplyBByVector(bSeed: SeedState, inner: number, r: Float64Array): Float64Array {
  const n = r.length;
  if (n > MAX_PROOF_N || inner > MAX_PROOF_INNER || n * inner > MAX_PROOF_CELLS) {
    throw new RangeError("proof dimensions exceed the exact-arithmetic bounds");
  }
  const row = new Int8Array(n);
  const br = new Float64Array(inner);
  for (let l = 0; l < inner; l++) {
    fillBRow(row, bSeed, l);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += row[j] * r[j];
    br[l] = sum;
  }
  return br;
}

/** Whether a revealed row has n integer entries that a correct product can hold. */
export function rowWithinBounds(values: ArrayLike<number>, n: number, inner: number): boolean {
  if (values.length !== n) return false;
  const max = maxProductMagnitude(inner);
  for (let j = 0; j < n; j++) {
    const v = values[j];
    if (!Number.isInteger(v) || v > max || v < -max) return false;
  }
  return true;
}

/**
 * a·(B·r) for row `row` of A_matrix, generating the row on the fly (fused with the dot product, since this
 * runs for every revealed row). Mirrors fillRow in generator.ts.
 */
export function aRowDot(seed: SeedState, matrix: number, row: number, br: Float64Array): number {
  const key = rowKey(seed, matrix, row);
  const lo = key.lo;
  const hi = key.hi;
  let sum = 0;
  for (let g = 0, l = 0; l < br.length; g++, l += 4) {
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
    sum +=
      (((h >>> 3) & 31) + ENTRY_MIN) * br[l] +
      (((h >>> 11) & 31) + ENTRY_MIN) * br[l + 1] +
      (((h >>> 19) & 31) + ENTRY_MIN) * br[l + 2] +
      (((h >>> 27) & 31) + ENTRY_MIN) * br[l + 3];
  }
  return sum;
}

/** c·r for a revealed row (checked with rowWithinBounds first). */
export function rowDot(values: ArrayLike<number>, r: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < r.length; j++) sum += values[j] * r[j];
  return sum;
}

/**
 * Freivalds' test of one row: accepts when a·(B·r) = c·r. A correct row always passes; a wrong one passes
 * with probability at most 2^-16 over r. The caller must have checked rowWithinBounds(values) first.
 */
export function rowPassesFreivalds(
  seed: SeedState,
  matrix: number,
  row: number,
  values: ArrayLike<number>,
  r: Float64Array,
  br: Float64Array,
): boolean {
  return aRowDot(seed, matrix, row, br) === rowDot(values, r);
}
