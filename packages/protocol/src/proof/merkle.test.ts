import { describe, expect, it } from "vitest";
import { seedState } from "./generator.js";
import { fromHex, toHex } from "./hex.js";
import {
  leafHash,
  merkleLevels,
  merkleProof,
  merkleRoot,
  nodeHash,
  rootFromProof,
  verifyMerkleProof,
} from "./merkle.js";
import { referenceProductRow } from "./reference-product.js";
import { proofTestVectors } from "./test-vectors.js";

const leaves = (count: number) =>
  Array.from({ length: count }, (_, i) => leafHash(Int32Array.of(i, -i, 7, 0)));

/** RFC 6962 §2.1 Merkle Tree Hash, written independently as the recursive definition. */
function rfc6962(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 1) return hashes[0];
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return nodeHash(rfc6962(hashes.slice(0, k)), rfc6962(hashes.slice(k)));
}

describe("the row commitment", () => {
  it("is the RFC 6962 Merkle tree hash for every leaf count from 1 to 40", () => {
    for (let count = 1; count <= 40; count++) {
      expect(toHex(merkleRoot(merkleLevels(leaves(count))))).toBe(toHex(rfc6962(leaves(count))));
    }
  });

  it("hashes a leaf as SHA-256(0x00 ‖ int32 little-endian values)", () => {
    // SHA-256 of the five bytes 00 01 00 00 00.
    expect(toHex(leafHash([1]))).toBe("86f9649499b0080656c014aa244f654864bad4145c8513e9c8409f437d4a2b3b");
  });

  it("opens every leaf of odd and even trees with a proof that verifies", () => {
    for (const count of [1, 2, 3, 5, 8, 13, 96]) {
      const ls = leaves(count);
      const levels = merkleLevels(ls);
      const root = merkleRoot(levels);
      for (let i = 0; i < count; i++)
        expect(verifyMerkleProof(ls[i], i, count, merkleProof(levels, i), root)).toBe(true);
    }
  });

  it("rejects a tampered leaf, sibling, index, root or proof length", () => {
    const ls = leaves(13);
    const levels = merkleLevels(ls);
    const root = merkleRoot(levels);
    const proof = merkleProof(levels, 6);
    const flipped = (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x));
    expect(verifyMerkleProof(flipped(ls[6]), 6, 13, proof, root)).toBe(false);
    expect(verifyMerkleProof(ls[6], 6, 13, [flipped(proof[0]), ...proof.slice(1)], root)).toBe(false);
    expect(verifyMerkleProof(ls[6], 7, 13, proof, root)).toBe(false);
    expect(verifyMerkleProof(ls[6], 6, 13, proof, flipped(root))).toBe(false);
    expect(rootFromProof(ls[6], 6, 13, proof.slice(1))).toBeNull();
    expect(rootFromProof(ls[6], 6, 13, [...proof, proof[0]])).toBeNull();
    expect(rootFromProof(ls[6], 13, 13, proof)).toBeNull();
  });

  it("keeps leaves and inner nodes apart, so a node cannot pass as a leaf", () => {
    const [a, b] = leaves(2);
    const asValues = Array.from(new Int32Array(Uint8Array.from([...a, ...b]).buffer));
    expect(toHex(leafHash(asValues))).not.toBe(toHex(nodeHash(a, b)));
  });

  it("reproduces the root and the opened rows of every test vector", () => {
    for (const v of proofTestVectors) {
      const seed = seedState(fromHex(v.seed));
      const bSeed = seedState(fromHex(v.bSeed));
      const all: Uint8Array[] = [];
      for (let m = 0; m < v.batch; m++) {
        for (let i = 0; i < v.n; i++) all.push(leafHash(referenceProductRow(seed, bSeed, v, m, i)));
      }
      expect(all.length).toBe(v.leafCount);
      expect(toHex(merkleRoot(merkleLevels(all)))).toBe(v.root);
      for (const row of v.rows) {
        expect(Array.from(referenceProductRow(seed, bSeed, v, row.matrix, row.row))).toEqual(row.values);
        const ok = verifyMerkleProof(
          leafHash(row.values),
          row.matrix * v.n + row.row,
          v.leafCount,
          row.proof.map(fromHex),
          fromHex(v.root),
        );
        expect(ok).toBe(true);
      }
    }
  });
});
