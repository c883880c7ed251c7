import { rowBytes } from "./row-bytes.js";
import { nobleSha256, type Sha256 } from "./sha256.js";

/**
 * Merkle commitment over the product rows. The tree is the RFC 6962 Merkle Tree Hash: leaves are
 * SHA-256(0x00 ‖ row bytes), inner nodes SHA-256(0x01 ‖ left ‖ right), nodes are paired left to right on each
 * level and a level's odd last node is promoted unchanged (never duplicated, which would let two different
 * leaf lists share a root).
 */

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** Hash of one leaf: SHA-256(0x00 ‖ int32-LE bytes of the row). */
export function leafHash(values: Int32Array | readonly number[], hash: Sha256 = nobleSha256): Uint8Array {
  return hash(LEAF_PREFIX, rowBytes(values));
}

/** Hash of an inner node: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array, hash: Sha256 = nobleSha256): Uint8Array {
  return hash(NODE_PREFIX, left, right);
}

/** All levels of the tree, leaves first and the one-element root level last. */
export function merkleLevels(leaves: readonly Uint8Array[], hash: Sha256 = nobleSha256): Uint8Array[][] {
  if (leaves.length === 0) throw new RangeError("a Merkle tree needs at least one leaf");
  const levels: Uint8Array[][] = [leaves.slice()];
  let level = levels[0];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i], level[i + 1], hash));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    levels.push(next);
    level = next;
  }
  return levels;
}

/** The root of a tree built by merkleLevels. */
export function merkleRoot(levels: readonly Uint8Array[][]): Uint8Array {
  return levels[levels.length - 1][0];
}

/** Sibling hashes from the leaf up, skipping levels where the node is a promoted odd last node. */
export function merkleProof(levels: readonly Uint8Array[][], index: number): Uint8Array[] {
  const proof: Uint8Array[] = [];
  let idx = index;
  for (let d = 0; d + 1 < levels.length; d++) {
    const level = levels[d];
    const sibling = idx ^ 1;
    if (sibling < level.length) proof.push(level[sibling]);
    idx >>>= 1;
  }
  return proof;
}

/** Recomputes the root from a leaf and its proof; null when the proof has the wrong number of nodes. */
export function rootFromProof(
  leaf: Uint8Array,
  index: number,
  leafCount: number,
  proof: readonly Uint8Array[],
  hash: Sha256 = nobleSha256,
): Uint8Array | null {
  if (!Number.isInteger(index) || index < 0 || index >= leafCount) return null;
  let node = leaf;
  let idx = index;
  let count = leafCount;
  let used = 0;
  while (count > 1) {
    const sibling = idx ^ 1;
    if (sibling < count) {
      const other = proof[used++];
      if (other === undefined || other.length !== 32) return null;
      node = idx % 2 === 0 ? nodeHash(node, other, hash) : nodeHash(other, node, hash);
    }
    idx >>>= 1;
    count = Math.ceil(count / 2);
  }
  return used === proof.length ? node : null;
}

/** Whether `proof` links `leaf` at `index` to `root` in a tree of `leafCount` leaves. */
export function verifyMerkleProof(
  leaf: Uint8Array,
  index: number,
  leafCount: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
  hash: Sha256 = nobleSha256,
): boolean {
  const computed = rootFromProof(leaf, index, leafCount, proof, hash);
  return computed !== null && bytesEqual(computed, root);
}

/** Constant-length byte comparison of two hashes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
