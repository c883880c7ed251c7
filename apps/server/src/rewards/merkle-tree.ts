import { hashPair, type Keccak } from "./leaf-hash.js";

const NODE = 32;

/** A Merkle tree in OpenZeppelin's layout: node i has children 2i+1 and 2i+2, leaves fill the tail. */
export interface RewardTree {
  /** All 2n-1 nodes, 32 bytes each; node 0 is the root. */
  nodes: Buffer;
  nodeCount: number;
  /** Tree index of each input leaf, in input order. */
  leafIndex: Uint32Array;
  /** 0x-prefixed hex root. */
  root: string;
}

/**
 * Builds the tree StandardMerkleTree.of would build from the same leaves (sorted by leaf hash, the sorted leaf
 * i at index nodeCount-1-i, pairs hashed in ascending order), into one flat buffer instead of 2n hex strings.
 * `leafHashes` holds n leaf hashes of 32 bytes in input order.
 */
export function buildRewardTree(h: Keccak, leafHashes: Buffer, n: number): RewardTree {
  if (n < 1) throw new RangeError("a Merkle tree needs at least one leaf");
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // The first six bytes as an exact float key make most comparisons cheap; ties fall back to all 32 bytes.
  const key = new Float64Array(n);
  for (let i = 0; i < n; i++) key[i] = leafHashes.readUIntBE(i * NODE, 6);
  order.sort((a, b) => {
    const d = key[a]! - key[b]!;
    if (d !== 0) return d;
    return Buffer.compare(leafAt(leafHashes, a), leafAt(leafHashes, b));
  });
  const nodeCount = 2 * n - 1;
  const nodes = Buffer.allocUnsafe(nodeCount * NODE);
  const leafIndex = new Uint32Array(n);
  for (let p = 0; p < n; p++) {
    const at = nodeCount - 1 - p;
    leafHashes.copy(nodes, at * NODE, order[p]! * NODE, order[p]! * NODE + NODE);
    leafIndex[order[p]!] = at;
  }
  for (let i = nodeCount - 1 - n; i >= 0; i--) {
    const left = nodes.subarray((2 * i + 1) * NODE, (2 * i + 2) * NODE);
    const right = nodes.subarray((2 * i + 2) * NODE, (2 * i + 3) * NODE);
    nodes.set(hashPair(h, left, right), i * NODE);
  }
  return { nodes, nodeCount, leafIndex, root: `0x${nodes.toString("hex", 0, NODE)}` };
}

function leafAt(hashes: Buffer, i: number): Buffer {
  return hashes.subarray(i * NODE, i * NODE + NODE);
}
