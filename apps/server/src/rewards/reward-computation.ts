import { allocatePool } from "./allocation.js";
import type { EpochShare } from "./epoch-shares.js";
import { type RewardLeafInput, type RewardTree, startRewardTree } from "./merkle-tree.js";

/** An epoch's rewards as computed from its shares: amounts in share order, their total and the tree to hash. */
export interface EpochRewards {
  amounts: bigint[];
  total: bigint;
  /** Σ weight × up-minutes: the formula's denominator. */
  units: bigint;
  /** Undefined when no device qualified; otherwise leaf i is share i, hashed by growRewardTree. */
  tree: RewardTree | undefined;
  /** Leaf i of the tree: (epoch, share i's device, amount i). */
  leafAt: (i: number) => RewardLeafInput;
}

/**
 * The pure part of an epoch close: amounts by the formula (largest remainders) and the tree over the leaves
 * (epoch, device id, amount) in ascending device id. Same shares and pool in, same bits out — which is what
 * makes a close repeatable and a published root recomputable.
 */
export function computeEpochRewards(
  epoch: number,
  pool: bigint,
  shares: readonly EpochShare[],
): EpochRewards {
  for (let i = 1; i < shares.length; i++) {
    if (!(shares[i - 1]!.deviceId < shares[i]!.deviceId))
      throw new Error("shares must be in ascending device id");
  }
  const units = shares.map((s) => BigInt(s.weight) * BigInt(s.upMinutes));
  const amounts = allocatePool(
    pool,
    shares.map((s, i) => ({ deviceId: s.deviceId, units: units[i]! })),
  );
  const total = amounts.reduce((sum, a) => sum + a, 0n);
  const unitSum = units.reduce((sum, u) => sum + u, 0n);
  const e = BigInt(epoch);
  return {
    amounts,
    total,
    units: unitSum,
    tree: shares.length > 0 ? startRewardTree(shares.length) : undefined,
    leafAt: (i) => ({ epoch: e, deviceId: shares[i]!.deviceId, amount: amounts[i]! }),
  };
}
