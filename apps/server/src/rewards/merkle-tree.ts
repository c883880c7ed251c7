import { hashPair, hashRewardLeaf, type Keccak } from "./leaf-hash.js";

const NODE = 32;

/** One leaf of a reward tree: what StandardMerkleTree takes as `[epoch, deviceId, amount]`. */
export interface RewardLeafInput {
  epoch: bigint;
  deviceId: string;
  amount: bigint;
}

/**
 * A reward Merkle tree in OpenZeppelin's layout (node i has children 2i+1 and 2i+2; leaf i of n at
 * nodeCount-1-i), built like `StandardMerkleTree.of(leaves, leafEncoding, { sortLeaves: false })`: leaves keep
 * the order they are given in, which an epoch close makes ascending device id. Every leaf's position is known
 * before any hashing, and the hashing can go in slices (growRewardTree), so a close writes reward rows while it
 * hashes. Proofs verify with StandardMerkleTree.verify whatever the leaf order.
 */
export interface RewardTree {
  /** All 2n-1 nodes, 32 bytes each; node 0 is the root. */
  nodes: Buffer;
  nodeCount: number;
  leaves: number;
  /** Work done so far: leaves hashed first (0..n-1), then inner nodes from the bottom up. */
  done: number;
}

/** An empty tree for n leaves: positions fixed, nothing hashed yet. */
export function startRewardTree(n: number): RewardTree {
  if (n < 1) throw new RangeError("a Merkle tree needs at least one leaf");
  return { nodes: Buffer.allocUnsafe((2 * n - 1) * NODE), nodeCount: 2 * n - 1, leaves: n, done: 0 };
}

/** The tree position of the i-th leaf. */
export function leafPosition(tree: RewardTree, i: number): number {
  return tree.nodeCount - 1 - i;
}

/**
 * Does up to `budget` more hashes (leaves first, then inner nodes bottom-up, pairs in ascending byte order as
 * StandardMerkleTree does). `leafAt(i)` supplies leaf i. Returns true when the root is known.
 */
export function growRewardTree(
  h: Keccak,
  tree: RewardTree,
  leafAt: (i: number) => RewardLeafInput,
  budget = Number.POSITIVE_INFINITY,
): boolean {
  const { nodes, nodeCount, leaves } = tree;
  const total = nodeCount;
  const stop = Math.min(total, tree.done + budget);
  for (let k = tree.done; k < stop; k++) {
    if (k < leaves) {
      hashRewardLeaf(h, leafAt(k), nodes, (nodeCount - 1 - k) * NODE);
    } else {
      const i = nodeCount - 1 - k; // inner nodes nodeCount-n-1 … 0, as k runs n … nodeCount-1
      const left = nodes.subarray((2 * i + 1) * NODE, (2 * i + 2) * NODE);
      const right = nodes.subarray((2 * i + 2) * NODE, (2 * i + 3) * NODE);
      nodes.set(hashPair(h, left, right), i * NODE);
    }
  }
  tree.done = stop;
  return stop === total;
}

/** The tree's root as 0x-prefixed hex; every hash must be done. */
export function rootOf(tree: RewardTree): string {
  if (tree.done !== tree.nodeCount) throw new Error("the reward tree is not fully hashed yet");
  return `0x${tree.nodes.toString("hex", 0, NODE)}`;
}

/** Builds a whole tree over the leaves, in the order given. */
export function buildRewardTree(h: Keccak, leaves: readonly RewardLeafInput[]): RewardTree {
  const tree = startRewardTree(leaves.length);
  growRewardTree(h, tree, (i) => leaves[i]!);
  return tree;
}
