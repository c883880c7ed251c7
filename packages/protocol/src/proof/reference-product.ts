import { fillARow, fillBRow, type SeedState } from "./generator.js";

/**
 * One row of C_matrix = A_matrix · B computed the slow, obvious way (O(n²) time, O(n) memory). It is the
 * oracle for the test vectors and for tests of the provers, never a prover itself.
 */
export function referenceProductRow(
  seed: SeedState,
  bSeed: SeedState,
  n: number,
  matrix: number,
  row: number,
): Int32Array {
  const a = fillARow(new Int8Array(n), seed, matrix, row);
  const bRow = new Int8Array(n);
  const c = new Int32Array(n);
  for (let l = 0; l < n; l++) {
    fillBRow(bRow, bSeed, l);
    const al = a[l];
    if (al === 0) continue;
    for (let j = 0; j < n; j++) c[j] += al * bRow[j];
  }
  return c;
}
