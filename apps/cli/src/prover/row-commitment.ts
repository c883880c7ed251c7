import {
  leafHash,
  merkleLevels,
  merkleProof,
  merkleRoot,
  type ProofRevealMessage,
  type ProofRevealRequestMessage,
  type RevealedRow,
  type Sha256,
  toHex,
} from "@ignis/protocol/proof";
import { IgnisError } from "../../../../packages/protocol/src/errors.js";

/** Supplies product row `row` of matrix `matrix` (honestly computed or, for adversaries, not). */
export type RowSource = (matrix: number, row: number) => Int32Array;

/** A Merkle commitment over all batch · n rows, kept until the reveal. */
export interface RowCommitment {
  readonly n: number;
  readonly batch: number;
  readonly levels: Uint8Array[][];
  readonly root: Uint8Array;
}

/**
 * Hashes every row from `rowAt` in leaf order (matrix-major) and builds the tree. Yields to the event loop
 * after each matrix, so a worker computing on its main thread keeps answering heartbeats.
 */
export async function buildRowCommitment(
  shape: { n: number; batch: number },
  rowAt: RowSource,
  hash: Sha256,
): Promise<RowCommitment> {
  const leaves: Uint8Array[] = new Array(shape.batch * shape.n);
  for (let m = 0; m < shape.batch; m++) {
    for (let i = 0; i < shape.n; i++) leaves[m * shape.n + i] = leafHash(rowAt(m, i), hash);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const levels = merkleLevels(leaves, hash);
  return { n: shape.n, batch: shape.batch, levels, root: merkleRoot(levels) };
}

/** The reveal message for `request`: each row from `rowAt` with its Merkle proof. */
export function openRows(
  commitment: RowCommitment,
  request: ProofRevealRequestMessage,
  rowAt: RowSource,
): ProofRevealMessage {
  const rows: RevealedRow[] = request.rows.map(({ matrix, row }) => {
    if (matrix >= commitment.batch || row >= commitment.n) {
      throw new IgnisError("bad_request", "reveal request names a row outside the challenge");
    }
    return {
      matrix,
      row,
      values: Array.from(rowAt(matrix, row)),
      proof: merkleProof(commitment.levels, matrix * commitment.n + row).map(toHex),
    };
  });
  return { type: "proof.reveal", challengeId: request.challengeId, rows };
}
