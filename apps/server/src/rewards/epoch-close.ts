import { sql } from "kysely";
import { enqueueRootPublication } from "../chain/root-outbox.js";
import type { Db } from "../db/database.js";
import { epochEndMs, epochStartMs } from "./epoch-clock.js";
import { loadEpochShares } from "./epoch-shares.js";
import { applyGraceCredits } from "./grace-credit.js";
import { keccak } from "./leaf-hash.js";
import { windowsOverlapping } from "./maintenance-windows.js";
import { rootOf } from "./merkle-tree.js";
import { computeEpochRewards } from "./reward-computation.js";
import { creditOwners, insertRewards, insertTreePages } from "./reward-writes.js";
import { REWARDS_CONFIG_LOCK, seasonForEpoch } from "./seasons.js";

/** Points in a close after which a test may inject a crash (the whole close then rolls back). */
export type CloseStage = "credits" | "shares" | "computed" | "rewards" | "tree" | "ledger" | "epoch";

/** What closing an epoch produced (or found, when it was closed before). */
export interface ClosedEpoch {
  epoch: number;
  seasonId: string;
  root: string | null;
  total: bigint;
  devices: number;
  alreadyClosed: boolean;
}

/** Options of closeEpoch. */
export interface CloseEpochOptions {
  epoch: number;
  epochSeconds: number;
  /** Test seam: called after each stage inside the transaction; throwing there simulates a crash. */
  afterStage?: (stage: CloseStage) => void | Promise<void>;
  /** A RewardRoots contract: the epoch's root is queued for it in the same transaction (chain/root-outbox). */
  publishTo?: string | undefined;
  /** With staking on: only devices whose stake was bonded through the whole epoch earn in it. */
  stakePerGpu?: bigint | undefined;
  /** With a pending period: only devices verified and staked since that long before the epoch's start earn. */
  stakePendingSeconds?: number | undefined;
  /** A device earns only with a pass this recent at the epoch's start, or in it (absent: no such rule). */
  proofMaxAgeSeconds?: number | undefined;
}

/**
 * Closes one epoch in one transaction: credits maintenance windows, computes each qualifying device's amount
 * = pool × weight × up-minutes / Σ(weight × up-minutes) (largest remainders, so the amounts sum to the pool),
 * writes the reward rows and the Merkle tree's pages, credits each owner's supplier-earnings account from the
 * reward pool in the ledger, and records the epoch with its root. Everything is derived from stored rows, so a
 * crash anywhere leaves nothing behind and a rerun writes the same rows and root. With a chain contract, the root
 * is queued for publication in the same transaction; the close never waits for the chain. Closing a closed epoch returns
 * it unchanged; an epoch outside every season has nothing to close (undefined).
 */
export async function closeEpoch(db: Db, options: CloseEpochOptions): Promise<ClosedEpoch | undefined> {
  const { epoch, epochSeconds } = options;
  const h = await keccak();
  return db.transaction().execute(async (trx) => {
    await REWARDS_CONFIG_LOCK.execute(trx);
    // A close sorts and hashes a few hundred thousand rows: let it do so in memory, in this one backend (parallel
    // workers would take every core from live traffic for a job that has minutes to spare).
    await sql`set local work_mem = '256MB'`.execute(trx);
    await sql`set local max_parallel_workers_per_gather = 0`.execute(trx);
    const closed = await trx
      .selectFrom("reward_epochs")
      .select(["season_id", "root", "total", "devices"])
      .where("epoch", "=", String(epoch))
      .executeTakeFirst();
    if (closed) {
      const { root, devices } = closed;
      return {
        epoch,
        seasonId: closed.season_id,
        root,
        total: BigInt(closed.total),
        devices,
        alreadyClosed: true,
      };
    }
    const season = await seasonForEpoch(trx, epoch, epochSeconds);
    if (!season) return undefined;
    const start = epochStartMs(epoch, epochSeconds);
    const end = epochEndMs(epoch, epochSeconds);
    await applyGraceCredits(trx, epoch, epochSeconds, await windowsOverlapping(trx, start, end));
    await options.afterStage?.("credits");

    const shares = await loadEpochShares(trx, epoch, season, {
      stakePerGpu: options.stakePerGpu ?? 0n,
      epochStart: new Date(start),
      pendingSeconds: options.stakePendingSeconds ?? 0,
      proofMaxAgeSeconds: options.proofMaxAgeSeconds,
    });
    await options.afterStage?.("shares");
    const { amounts, total, units, tree, leafAt } = computeEpochRewards(epoch, season.poolPerEpoch, shares);
    await options.afterStage?.("computed");
    const root = tree ? () => rootOf(tree) : () => null;
    if (tree) {
      await insertRewards(trx, epoch, shares, amounts, { h, tree, leafAt });
      await options.afterStage?.("rewards");
      await insertTreePages(trx, epoch, tree);
      await options.afterStage?.("tree");
    }
    if (total > 0n) await creditOwners(trx, epoch, season, shares, amounts, total);
    await options.afterStage?.("ledger");

    await trx
      .insertInto("reward_epochs")
      .values({
        epoch: String(epoch),
        season_id: season.id,
        starts_at: new Date(start),
        ends_at: new Date(end),
        root: root(),
        total: total.toString(),
        devices: shares.length,
        units: units.toString(),
      })
      .execute();
    const published = root();
    if (published && options.publishTo) {
      await enqueueRootPublication(trx, {
        epoch,
        contract: options.publishTo,
        root: published,
        now: new Date(),
      });
    }
    await options.afterStage?.("epoch");
    return {
      epoch,
      seasonId: season.id,
      root: root(),
      total,
      devices: shares.length,
      alreadyClosed: false,
    };
  });
}
