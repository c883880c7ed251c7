import { ENTRY_MAX_ABS, fillBRow, type SeedState } from "./generator.js";

/**
 * Freivalds' check of single product rows, exact in IEEE doubles.
 *
 * Bounds (n ≤ MAX_PROOF_N = 2^14, |A|,|B| ≤ 2^4, 0 ≤ r < 2^16): |(B·r)_l| ≤ n·2^4·2^16 ≤ 2^34, and every
 * partial sum of a·(B·r) is at most n·2^4·2^34 = 2^52 in magnitude. A revealed row is rejected unless every
 * entry satisfies |c| ≤ 2^8·n ≤ 2^22, so every partial sum of c·r is at most n·2^22·2^16 = 2^52 too. All
 * values are integers below 2^53, hence every addition and product here is exact.
 */

/** Bits of each entry of the random vector r; a wrong row passes with probability at most 2^-16. */
export const FREIVALDS_R_BITS = 16;
/** Largest n for which the double-precision bounds above hold. */
export const MAX_PROOF_N = 1 << 14;

/** Largest |C[i][j]| a correct product can have: |a|·|b| ≤ 256 summed over n terms. */
export function maxProductMagnitude(n: number): number {
  return ENTRY_MAX_ABS * ENTRY_MAX_ABS * n;
}

/** The random vector r from 2·n random bytes: entry l is the little-endian uint16 at bytes 2l, 2l+1. */
export function freivaldsVector(n: number, randomBytes: Uint8Array): Float64Array {
  if (randomBytes.length < 2 * n) throw new RangeError("freivaldsVector needs 2·n random bytes");
  const r = new Float64Array(n);
  for (let l = 0; l < n; l++) r[l] = randomBytes[2 * l] | (randomBytes[2 * l + 1] << 8);
  return r;
}

/**
 * B·r for the B of `bSeed`, generating B one row at a time: O(n²) time, O(n) memory.
 * Done once per verifier key and shared by every challenge that uses the key.
 */
export function multiplyBByVector(bSeed: SeedState, r: Float64Array): Float64Array {
  const n = r.length;
  if (n > MAX_PROOF_N) throw new RangeError(`n must be at most ${MAX_PROOF_N}`);
  const row = new Int8Array(n);
  const br = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    fillBRow(row, bSeed, i);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += row[j] * r[j];
    br[i] = sum;
  }
  return br;
}

/** Whether every entry of a revealed row is an integer a correct product can hold. */
export function rowWithinBounds(values: ArrayLike<number>, n: number): boolean {
  if (values.length !== n) return false;
  const max = maxProductMagnitude(n);
  for (let j = 0; j < n; j++) {
    const v = values[j];
    if (!Number.isInteger(v) || v > max || v < -max) return false;
  }
  return true;
}

/**
 * Freivalds' test of one row: accepts when a·(B·r) = c·r. A correct row always passes; a wrong one passes
 * with probability at most 2^-16 over r. The caller must have checked rowWithinBounds(c) first.
 */
export function rowPassesFreivalds(
  aRow: Int8Array,
  c: ArrayLike<number>,
  r: Float64Array,
  br: Float64Array,
): boolean {
  const n = r.length;
  let lhs = 0;
  let rhs = 0;
  for (let l = 0; l < n; l++) {
    lhs += aRow[l] * br[l];
    rhs += c[l] * r[l];
  }
  return lhs === rhs;
}
