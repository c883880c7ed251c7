import { fillARow, fillBRow, type SeedState } from "./generator.js";

/** Dimensions of one challenge's product: A_m is n × inner, B is inner × n, batch matrices A_m. */
export interface ProductShape {
  readonly n: number;
  readonly inner: number;
  readonly batch: number;
}

/**
 * One row of C_matrix = A_matrix · B computed the slow, obvious way (O(inner·n) time, O(n) memory). It is
 * the oracle for the test vectors and for tests of the provers, never a prover itself.
 */
export function referenceProductRow(
  seed: SeedState,
  bSeed: SeedState,
  shape: Pick<ProductShape, "n" | "inner">,
  matrix: number,
  row: number,
): Int32Array {
  const a = fillARow(new Int8Array(shape.inner), seed, matrix, row);
  const bRow = new Int8Array(shape.n);
  const c = new Int32Array(shape.n);
  for (let l = 0; l < shape.inner; l++) {
    fillBRow(bRow, bSeed, l);
    const al = a[l];
    if (al === 0) continue;
    for (let j = 0; j < shape.n; j++) c[j] += al * bRow[j];
  }
  return c;
}
