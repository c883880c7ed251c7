import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { epochStartMs } from "./epoch-clock.js";
import { loadEpochShares } from "./epoch-shares.js";
import { keccak } from "./leaf-hash.js";
import { growRewardTree, rootOf } from "./merkle-tree.js";
import { computeEpochRewards } from "./reward-computation.js";
import { seasonForEpoch } from "./seasons.js";

/** A closed epoch's published figures next to the ones recomputed from stored uptime. */
export interface EpochRecomputation {
  epoch: number;
  published: { root: string | null; total: bigint; devices: number };
  recomputed: { root: string | null; total: bigint; devices: number; amounts: Map<string, bigint> };
  matches: boolean;
}

/**
 * Recomputes a closed epoch from stored uptime (measured and grace-credited slots), the season and the devices'
 * current states, without writing anything, and compares with what was published. A mismatch means a stored
 * input changed after the close (for example a device revoked since), or a bug.
 */
export async function recomputeEpoch(
  db: Db,
  epoch: number,
  epochSeconds: number,
  stakePerGpu = 0n,
  stakePendingSeconds = 0,
  proofMaxAgeSeconds?: number,
): Promise<EpochRecomputation> {
  const stored = await db
    .selectFrom("reward_epochs")
    .select(["root", "total", "devices"])
    .where("epoch", "=", String(epoch))
    .executeTakeFirst();
  if (!stored) throw new IgnisError("epoch_not_closed", `epoch ${epoch} is not closed`);
  const season = await seasonForEpoch(db, epoch, epochSeconds);
  if (!season) throw new IgnisError("epoch_not_found", `epoch ${epoch} is in no season`);
  const stake = {
    stakePerGpu,
    epochStart: new Date(epochStartMs(epoch, epochSeconds)),
    pendingSeconds: stakePendingSeconds,
    proofMaxAgeSeconds,
  };
  const shares = await db.transaction().execute((trx) => loadEpochShares(trx, epoch, season, stake));
  const { amounts, total, tree, leafAt } = computeEpochRewards(epoch, season.poolPerEpoch, shares);
  if (tree) growRewardTree(await keccak(), tree, leafAt);
  const recomputed = {
    root: tree ? rootOf(tree) : null,
    total,
    devices: shares.length,
    amounts: new Map(shares.map((s, i) => [s.deviceId, amounts[i]!])),
  };
  const published = { root: stored.root, total: BigInt(stored.total), devices: stored.devices };
  return {
    epoch,
    published,
    recomputed,
    matches:
      published.root === recomputed.root &&
      published.total === recomputed.total &&
      published.devices === recomputed.devices,
  };
}
