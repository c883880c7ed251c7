import { REWARD_LEAF_ENCODING } from "@ignis/protocol";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { describe, expect, it } from "vitest";
import { checkRewardProof, type PublishedProof } from "./verify-proof.js";

const encoding = [...REWARD_LEAF_ENCODING];
const deviceA = "dev_aaaaaaaaaaaaaaaaaaaaaaaaaa";
const deviceB = "dev_bbbbbbbbbbbbbbbbbbbbbbbbbb";
const tree = StandardMerkleTree.of(
  [
    ["7", deviceA, "600"],
    ["7", deviceB, "400"],
    ["7", "dev_cccccccccccccccccccccccccc", "1"],
  ],
  encoding,
);

function published(index: number): PublishedProof {
  return {
    epochRoot: tree.root,
    proofRoot: tree.root,
    leaf: [...tree.at(index)!],
    leafEncoding: encoding,
    proof: tree.getProof(index),
  };
}

describe("checkRewardProof", () => {
  it("accepts an honest proof, with or without the expected amount", () => {
    expect(checkRewardProof(published(0), { epoch: 7, deviceId: deviceA })).toEqual({
      valid: true,
      amount: "600",
      problems: [],
    });
    expect(checkRewardProof(published(0), { epoch: 7, deviceId: deviceA, amount: 600n }).valid).toBe(true);
  });

  it("refuses a leaf whose amount was tampered with", () => {
    const tampered = published(0);
    tampered.leaf = ["7", deviceA, "6000"];
    const check = checkRewardProof(tampered, { epoch: 7, deviceId: deviceA });
    expect(check.valid).toBe(false);
    expect(check.problems).toContain("the Merkle proof does not lead from the leaf to the epoch's root");
  });

  it("refuses an honest proof when the user expects another amount", () => {
    const check = checkRewardProof(published(0), { epoch: 7, deviceId: deviceA, amount: 601n });
    expect(check.valid).toBe(false);
    expect(check.problems).toEqual(["the leaf's amount is 600, not the expected 601"]);
  });

  it("refuses another device's valid proof, and a proof for a root other than the epoch's", () => {
    expect(checkRewardProof(published(1), { epoch: 7, deviceId: deviceA }).problems).toEqual([
      `the leaf is for device ${deviceB}`,
    ]);
    const otherRoot = { ...published(0), epochRoot: `0x${"00".repeat(32)}` };
    expect(checkRewardProof(otherRoot, { epoch: 7, deviceId: deviceA }).valid).toBe(false);
  });

  it("refuses a proof with a foreign leaf encoding", () => {
    const foreign = { ...published(0), leafEncoding: ["uint256", "string", "uint128"] };
    expect(checkRewardProof(foreign, { epoch: 7, deviceId: deviceA }).valid).toBe(false);
  });
});
