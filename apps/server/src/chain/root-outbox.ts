import { sql } from "kysely";
import type { Db } from "../db/database.js";

// The only writer of reward_root_publications: the close enqueues, the root publisher settles.

/** A root waiting for its publication. */
export interface PendingRoot {
  epoch: number;
  contract: string;
  root: string;
  attempts: number;
}

/** Where an epoch's root is on chain. */
export interface RootOnChain {
  contract: string;
  txHash: string;
  blockNumber: number;
}

/** Queues an epoch's root for `contract`; called inside the epoch's close transaction, after its epoch row. */
export async function enqueueRootPublication(
  trx: Db,
  row: { epoch: number; contract: string; root: string; now: Date },
): Promise<void> {
  await trx
    .insertInto("reward_root_publications")
    .values({
      epoch: String(row.epoch),
      contract: row.contract.toLowerCase(),
      root: row.root,
      status: "pending",
      next_attempt_at: row.now,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** The pending roots whose next attempt is due, oldest epoch first. */
export async function dueRoots(db: Db, now: Date, limit: number): Promise<PendingRoot[]> {
  const rows = await db
    .selectFrom("reward_root_publications")
    .select([sql<string>`epoch::text`.as("epoch"), "contract", "root", "attempts"])
    .where("status", "=", "pending")
    .where("next_attempt_at", "<=", now)
    .orderBy("epoch")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    epoch: Number(r.epoch),
    contract: r.contract,
    root: r.root,
    attempts: r.attempts,
  }));
}

/** Records that a root is on chain. */
export async function markRootPublished(
  db: Db,
  root: PendingRoot,
  at: RootOnChain,
  now: Date,
): Promise<void> {
  await db
    .updateTable("reward_root_publications")
    .set({
      status: "published",
      tx_hash: at.txHash,
      block_number: String(at.blockNumber),
      published_at: now,
      last_error: null,
      attempts: root.attempts + 1,
    })
    .where("epoch", "=", String(root.epoch))
    .where("contract", "=", root.contract)
    .where("status", "=", "pending")
    .execute();
}

/** Records a failed attempt and when to try again. */
export async function markRootRetry(
  db: Db,
  root: PendingRoot,
  failure: { error: string; nextAttemptAt: Date },
): Promise<void> {
  await db
    .updateTable("reward_root_publications")
    .set({ attempts: root.attempts + 1, last_error: failure.error, next_attempt_at: failure.nextAttemptAt })
    .where("epoch", "=", String(root.epoch))
    .where("contract", "=", root.contract)
    .where("status", "=", "pending")
    .execute();
}

/** Gives up on a root the contract already holds a different value for: no retry can fix that. */
export async function markRootConflict(db: Db, root: PendingRoot, error: string): Promise<void> {
  await db
    .updateTable("reward_root_publications")
    .set({ status: "conflict", attempts: root.attempts + 1, last_error: error })
    .where("epoch", "=", String(root.epoch))
    .where("contract", "=", root.contract)
    .where("status", "=", "pending")
    .execute();
}

/** Where each of the given epochs' roots was published (the latest publication, when there are several). */
export async function rootsOnChain(db: Db, epochs: readonly number[]): Promise<Map<number, RootOnChain>> {
  const found = new Map<number, RootOnChain>();
  if (epochs.length === 0) return found;
  const rows = await db
    .selectFrom("reward_root_publications")
    .select([
      sql<string>`epoch::text`.as("epoch"),
      "contract",
      "tx_hash",
      sql<string>`block_number::text`.as("block_number"),
    ])
    .where(
      "epoch",
      "in",
      epochs.map((e) => String(e)),
    )
    .where("status", "=", "published")
    .orderBy("published_at")
    .execute();
  for (const row of rows) {
    if (row.tx_hash === null) continue;
    found.set(Number(row.epoch), {
      contract: row.contract,
      txHash: row.tx_hash,
      blockNumber: Number(row.block_number),
    });
  }
  return found;
}
