import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { packedColumn } from "../db/packed-columns.js";
import { accountOf, systemAccount } from "../ledger/accounts.js";
import { type Posting, postTransaction } from "../ledger/post-transaction.js";
import type { EpochShare } from "./epoch-shares.js";
import type { Keccak } from "./leaf-hash.js";
import { growRewardTree, leafPosition, type RewardLeafInput, type RewardTree } from "./merkle-tree.js";
import type { Season } from "./seasons.js";
import { cutTreePages } from "./tree-pages.js";

// The writes of an epoch close, each inside the close's transaction.

const BATCH = 20_000;

/**
 * Inserts the reward rows in batches and, while PostgreSQL writes each batch, does a share of the tree's hashing
 * (leaf positions are fixed before any hash, so the rows can go first): the two biggest costs of a close overlap.
 * The tree is complete when this returns.
 */
export async function insertRewards(
  trx: Db,
  epoch: number,
  shares: readonly EpochShare[],
  amounts: readonly bigint[],
  hashing: { h: Keccak; tree: RewardTree; leafAt: (i: number) => RewardLeafInput },
): Promise<void> {
  const { h, tree, leafAt } = hashing;
  const slice = Math.ceil(tree.nodeCount / Math.ceil(shares.length / BATCH));
  for (let i = 0; i < shares.length; i += BATCH) {
    const batch = shares.slice(i, i + BATCH);
    const packed = (
      type: "text" | "int" | "bigint",
      pick: (s: EpochShare, k: number) => string | number | bigint,
    ) =>
      packedColumn(
        batch.map((s, k) => pick(s, i + k)),
        type,
      );
    const written = trx
      .insertInto("rewards")
      .columns(["epoch", "device_id", "owner_id", "profile", "weight", "up_minutes", "amount", "tree_index"])
      .expression(
        sql`select ${String(epoch)}::bigint, * from unnest(${sql.join([
          packed("text", (s) => s.deviceId),
          packed("text", (s) => s.ownerId),
          packed("text", (s) => s.profile),
          packed("int", (s) => s.weight),
          packed("int", (s) => s.upMinutes),
          packed("bigint", (_, k) => amounts[k]!),
          packed("int", (_, k) => leafPosition(tree, k)),
        ])})`,
      )
      .execute();
    // Awaited below; a handler now keeps a failure that arrives during the hashing from counting as unhandled.
    written.catch(() => undefined);
    // Let the query reach the socket before the event loop is busy hashing.
    await new Promise((resolve) => setImmediate(resolve));
    growRewardTree(h, tree, leafAt, slice);
    await written;
  }
  growRewardTree(h, tree, leafAt);
}

/** Stores the tree as pages (tree-pages.ts), 1,000 rows a statement. */
export async function insertTreePages(trx: Db, epoch: number, tree: RewardTree): Promise<void> {
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

/** One ledger transaction: the reward pool pays each owner the sum of their devices' amounts. */
export async function creditOwners(
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
