import { REWARD_LEAF_ENCODING } from "@ignis/protocol";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

/** What the server published: the epoch's root, and a device's leaf and proof. */
export interface PublishedProof {
  epochRoot: string;
  leaf: readonly unknown[];
  leafEncoding: readonly string[];
  proof: readonly string[];
  /** The root the proof route says it belongs to. */
  proofRoot: string;
}

/** What the user expects the proof to show. */
export interface ExpectedLeaf {
  epoch: number;
  deviceId: string;
  /** Micro-units, when the user wants to assert the amount too. */
  amount?: bigint;
}

/** The outcome of an offline check: valid, or the list of reasons it is not. */
export interface ProofCheck {
  valid: boolean;
  amount: string | undefined;
  problems: string[];
}

const isDecimal = (v: unknown): v is string => typeof v === "string" && /^\d+$/.test(v);

/**
 * Checks a reward proof offline, trusting nothing the server says beyond the published epoch root: the proof
 * must belong to that root, the leaf must name the expected epoch and device (and amount, when given), the leaf
 * encoding must be Ignis's, and OpenZeppelin's StandardMerkleTree.verify must accept leaf and proof.
 */
export function checkRewardProof(published: PublishedProof, expected: ExpectedLeaf): ProofCheck {
  const problems: string[] = [];
  const { leaf } = published;
  const amount = isDecimal(leaf[2]) ? leaf[2] : undefined;
  if (published.proofRoot.toLowerCase() !== published.epochRoot.toLowerCase()) {
    problems.push(
      `the proof is for root ${published.proofRoot}, but the epoch's published root is ${published.epochRoot}`,
    );
  }
  if (JSON.stringify(published.leafEncoding) !== JSON.stringify(REWARD_LEAF_ENCODING)) {
    problems.push(`unexpected leaf encoding ${JSON.stringify(published.leafEncoding)}`);
  }
  if (leaf.length !== 3 || !isDecimal(leaf[0]) || typeof leaf[1] !== "string" || amount === undefined) {
    problems.push("the leaf is not [epoch, deviceId, amount] as decimal strings");
  } else {
    if (BigInt(leaf[0]) !== BigInt(expected.epoch)) problems.push(`the leaf is for epoch ${leaf[0]}`);
    if (leaf[1] !== expected.deviceId) problems.push(`the leaf is for device ${leaf[1]}`);
    if (expected.amount !== undefined && BigInt(amount) !== expected.amount) {
      problems.push(`the leaf's amount is ${amount}, not the expected ${expected.amount}`);
    }
  }
  let verified = false;
  try {
    verified = StandardMerkleTree.verify(
      published.epochRoot,
      [...published.leafEncoding],
      [...leaf],
      [...published.proof],
    );
  } catch (error) {
    problems.push(`the proof could not be processed: ${(error as Error).message}`);
  }
  if (!verified) problems.push("the Merkle proof does not lead from the leaf to the epoch's root");
  return { valid: problems.length === 0, amount, problems };
}
