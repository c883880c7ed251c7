import { allocatePool } from "./allocation.js";
import type { EpochShare } from "./epoch-shares.js";
import { hashRewardLeaf, type Keccak } from "./leaf-hash.js";
import { buildRewardTree, type RewardTree } from "./merkle-tree.js";

/** An epoch's rewards as computed from its shares: amounts in share order, their total and the tree. */
export interface EpochRewards {
  amounts: bigint[];
  total: bigint;
  /** Σ weight × up-minutes: the formula's denominator. */
  units: bigint;
  /** Undefined when no device qualified. */
  tree: RewardTree | undefined;
}

/**
 * The pure part of an epoch close: amounts by the formula (largest remainders) and the Merkle tree over the
 * leaves (epoch, device id, amount). Same shares and pool in, same bits out — which is what makes a close
 * repeatable and a published root recomputable.
 */
export function computeEpochRewards(
  h: Keccak,
  epoch: number,
  pool: bigint,
  shares: readonly EpochShare[],
): EpochRewards {
  const units = shares.map((s) => BigInt(s.weight) * BigInt(s.upMinutes));
  const amounts = allocatePool(
    pool,
    shares.map((s, i) => ({ deviceId: s.deviceId, units: units[i]! })),
  );
  const total = amounts.reduce((sum, a) => sum + a, 0n);
  const unitSum = units.reduce((sum, u) => sum + u, 0n);
  if (shares.length === 0) return { amounts, total, units: unitSum, tree: undefined };
  const hashes = Buffer.allocUnsafe(shares.length * 32);
  const e = BigInt(epoch);
  for (let i = 0; i < shares.length; i++) {
    hashRewardLeaf(h, { epoch: e, deviceId: shares[i]!.deviceId, amount: amounts[i]! }, hashes, i * 32);
  }
  return { amounts, total, units: unitSum, tree: buildRewardTree(h, hashes, shares.length) };
}
