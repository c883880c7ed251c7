import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { accountOf, systemAccount } from "../ledger/accounts.js";
import { type Posting, postTransaction } from "../ledger/post-transaction.js";
import { epochEndMs, epochStartMs } from "./epoch-clock.js";
import { type EpochShare, loadEpochShares } from "./epoch-shares.js";
import { applyGraceCredits } from "./grace-credit.js";
import { keccak } from "./leaf-hash.js";
import { windowsOverlapping } from "./maintenance-windows.js";
import type { RewardTree } from "./merkle-tree.js";
import { packedColumn } from "./packed-columns.js";
import { computeEpochRewards } from "./reward-computation.js";
import { REWARDS_CONFIG_LOCK, type Season, seasonForEpoch } from "./seasons.js";
import { cutTreePages } from "./tree-pages.js";

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
}

const BATCH = 20_000;

/**
 * Closes one epoch in one transaction: credits maintenance windows, computes each qualifying device's amount
 * = pool × weight × up-minutes / Σ(weight × up-minutes) (largest remainders, so the amounts sum to the pool),
 * writes the reward rows and the Merkle tree's pages, credits each owner's supplier-earnings account from the
 * reward pool in the ledger, and records the epoch with its root. Everything is derived from stored rows, so a
 * crash anywhere leaves nothing behind and a rerun writes the same rows and root. Closing a closed epoch returns
 * it unchanged; an epoch outside every season has nothing to close (undefined).
 */
export async function closeEpoch(db: Db, options: CloseEpochOptions): Promise<ClosedEpoch | undefined> {
  const { epoch, epochSeconds } = options;
  const h = await keccak();
  return db.transaction().execute(async (trx) => {
    await REWARDS_CONFIG_LOCK.execute(trx);
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

    const shares = await loadEpochShares(trx, epoch, season);
    await options.afterStage?.("shares");
    const { amounts, total, units, tree } = computeEpochRewards(h, epoch, season.poolPerEpoch, shares);
    await options.afterStage?.("computed");
    if (tree) {
      await insertRewards(trx, epoch, shares, amounts, tree.leafIndex);
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
        root: tree?.root ?? null,
        total: total.toString(),
        devices: shares.length,
        units: units.toString(),
      })
      .execute();
    await options.afterStage?.("epoch");
    return {
      epoch,
      seasonId: season.id,
      root: tree?.root ?? null,
      total,
      devices: shares.length,
      alreadyClosed: false,
    };
  });
}

async function insertRewards(
  trx: Db,
  epoch: number,
  shares: readonly EpochShare[],
  amounts: readonly bigint[],
  leafIndex: Uint32Array,
): Promise<void> {
  for (let i = 0; i < shares.length; i += BATCH) {
    const batch = shares.slice(i, i + BATCH);
    const column = <T>(pick: (s: EpochShare, k: number) => T) => batch.map((s, k) => pick(s, i + k));
    await trx
      .insertInto("rewards")
      .columns(["epoch", "device_id", "owner_id", "profile", "weight", "up_minutes", "amount", "tree_index"])
      .expression(
        sql`select ${String(epoch)}::bigint, * from unnest(
          ${packedColumn(
            column((s) => s.deviceId),
            "text",
          )}, ${packedColumn(
            column((s) => s.ownerId),
            "text",
          )},
          ${packedColumn(
            column((s) => s.profile),
            "text",
          )}, ${packedColumn(
            column((s) => s.weight),
            "int",
          )},
          ${packedColumn(
            column((s) => s.upMinutes),
            "int",
          )}, ${packedColumn(
            column((_, k) => amounts[k]!),
            "bigint",
          )},
          ${packedColumn(
            column((_, k) => leafIndex[k]!),
            "int",
          )})`,
      )
      .execute();
  }
}

async function insertTreePages(trx: Db, epoch: number, tree: RewardTree): Promise<void> {
  let rows: { epoch: string; page_root: number; nodes: Buffer }[] = [];
  for (const page of cutTreePages(tree.nodes, tree.nodeCount)) {
    // Buffers travel as binary parameters; 1,000 rows keep a statement under PostgreSQL's parameter limit.
    rows.push({ epoch: String(epoch), page_root: page.pageRoot, nodes: page.nodes });
    if (rows.length === 1000) {
      await trx.insertInto("reward_tree_pages").values(rows).execute();
      rows = [];
    }
  }
  if (rows.length > 0) await trx.insertInto("reward_tree_pages").values(rows).execute();
}

async function creditOwners(
  trx: Db,
  epoch: number,
  season: Season,
  shares: readonly EpochShare[],
  amounts: readonly bigint[],
  total: bigint,
): Promise<void> {
  const byOwner = new Map<string, bigint>();
  shares.forEach((s, i) => {
    byOwner.set(s.ownerId, (byOwner.get(s.ownerId) ?? 0n) + amounts[i]!);
  });
  const postings: Posting[] = [{ account: systemAccount("reward_pool"), amount: -total }];
  for (const [owner, amount] of byOwner) {
    if (amount > 0n) postings.push({ account: accountOf("supplier_earnings", owner), amount });
  }
  await postTransaction(trx, {
    kind: "reward.epoch",
    reference: `reward-epoch:${epoch}`,
    postings,
    details: { epoch, seasonId: season.id },
  });
}
