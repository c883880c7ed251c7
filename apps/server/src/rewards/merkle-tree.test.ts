import { REWARD_LEAF_ENCODING } from "@ignis/protocol";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { standardLeafHash } from "@openzeppelin/merkle-tree/dist/hashes.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashRewardLeaf, keccak } from "./leaf-hash.js";
import { buildRewardTree, leafPosition, rootOf } from "./merkle-tree.js";
import { cutTreePages, pagesForProof, proofFromPages } from "./tree-pages.js";

const encoding = [...REWARD_LEAF_ENCODING];
const deviceId = fc.stringMatching(/^dev_[a-z2-7]{26}$/);
const leaves = fc.uniqueArray(fc.tuple(deviceId, fc.bigInt({ min: 0n, max: (1n << 80n) - 1n })), {
  minLength: 1,
  maxLength: 300,
  selector: ([id]) => id,
});

async function build(epoch: bigint, values: [string, bigint][]) {
  const tree = buildRewardTree(
    await keccak(),
    values.map(([deviceId, amount]) => ({ epoch, deviceId, amount })),
  );
  const pages = new Map([...cutTreePages(tree.nodes, tree.nodeCount)].map((p) => [p.pageRoot, p.nodes]));
  return { tree, pages };
}

describe("reward Merkle tree", () => {
  it("has the root and proofs of OpenZeppelin's StandardMerkleTree over the same leaves in the same order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 0n, max: 1n << 40n }), leaves, async (epoch, values) => {
        const { tree, pages } = await build(epoch, values);
        const reference = StandardMerkleTree.of(
          values.map(([id, amount]) => [epoch.toString(), id, amount.toString()]),
          encoding,
          { sortLeaves: false },
        );
        expect(rootOf(tree)).toBe(reference.root);
        values.forEach((_, i) => {
          const proof = proofFromPages(leafPosition(tree, i), tree.nodeCount, pages);
          expect(proof).toEqual(reference.getProof(i));
        });
      }),
      { numRuns: 25 },
    );
  });

  it("reads a proof from a handful of pages, three levels deep for 70,000 devices, and stores about the node array once", async () => {
    const n = 70_000;
    const values = Array.from({ length: n }, (_, i): [string, bigint] => [
      `dev_${String(i).padStart(26, "a")}`,
      7n,
    ]);
    const { tree, pages } = await build(3n, values);
    const leaf = leafPosition(tree, 12_345);
    const needed = pagesForProof(leaf, tree.nodeCount);
    expect(needed.length).toBeLessThanOrEqual(3);
    const subset = new Map(needed.map((root) => [root, pages.get(root)!]));
    const proof = proofFromPages(leaf, tree.nodeCount, subset);
    const leafValue = ["3", values[12_345]![0], "7"];
    expect(StandardMerkleTree.verify(rootOf(tree), encoding, leafValue, proof)).toBe(true);
    const stored = [...pages.values()].reduce((sum, p) => sum + p.length, 0);
    expect(stored).toBeLessThan(tree.nodes.length * 1.05);
  });

  it("hashes unusual leaves exactly as the library does: long, empty and non-ASCII ids, amounts past 2^64", async () => {
    const h = await keccak();
    const cases: [bigint, string, bigint][] = [
      [1n, `dev_${"x".repeat(60)}`, 5n],
      [2n, "", 0n],
      [3n, "dév_ünïcode", 1n << 70n],
      [1n << 65n, "dev_aaaaaaaaaaaaaaaaaaaaaaaaaa", (1n << 256n) - 1n],
    ];
    for (const [epoch, id, amount] of cases) {
      const out = Buffer.alloc(32);
      hashRewardLeaf(h, { epoch, deviceId: id, amount }, out, 0);
      expect(`0x${out.toString("hex")}`).toBe(
        standardLeafHash(encoding, [epoch.toString(), id, amount.toString()]),
      );
    }
  });

  it("makes a one-device epoch's root its leaf hash, with an empty proof", async () => {
    const { tree, pages } = await build(9n, [["dev_aaaaaaaaaaaaaaaaaaaaaaaaaa", 5n]]);
    const proof = proofFromPages(leafPosition(tree, 0), tree.nodeCount, pages);
    expect(proof).toEqual([]);
    expect(
      StandardMerkleTree.verify(rootOf(tree), encoding, ["9", "dev_aaaaaaaaaaaaaaaaaaaaaaaaaa", "5"], proof),
    ).toBe(true);
  });
});
