import {
  fillARow,
  fillBRow,
  fromHex,
  type ProofChallengeMessage,
  type SeedState,
  seedState,
} from "@ignis/protocol/proof";

/** The generated inputs of one challenge, ready for row products on the CPU. */
export interface ChallengeMatrices {
  readonly n: number;
  readonly inner: number;
  readonly batch: number;
  readonly seed: SeedState;
  /** B as `inner` rows of n entries, row-major. */
  readonly b: Int8Array;
}

/** Generates B once per challenge (inner · n bytes); rows of A are generated on demand. */
export function challengeMatrices(challenge: ProofChallengeMessage): ChallengeMatrices {
  const { n, inner, batch } = challenge;
  const bSeed = seedState(fromHex(challenge.bSeed));
  const b = new Int8Array(inner * n);
  for (let l = 0; l < inner; l++) fillBRow(b.subarray(l * n, (l + 1) * n), bSeed, l);
  return { n, inner, batch, seed: seedState(fromHex(challenge.seed)), b };
}

/**
 * Row `row` of C_matrix = A_matrix · B: the row of A times B, accumulated in int32 (exact: |C| ≤ 2^8·inner).
 * `scratch` (length inner) avoids an allocation per row.
 */
export function productRow(
  m: ChallengeMatrices,
  matrix: number,
  row: number,
  scratch: Int8Array = new Int8Array(m.inner),
): Int32Array {
  const { n, inner, b } = m;
  const a = fillARow(scratch, m.seed, matrix, row);
  const c = new Int32Array(n);
  for (let l = 0; l < inner; l++) {
    const al = a[l];
    if (al === 0) continue;
    const offset = l * n;
    for (let j = 0; j < n; j++) c[j] += al * b[offset + j];
  }
  return c;
}
