import { type Kysely, sql } from "kysely";

/**
 * The outbox of reward roots to publish on chain: one row per closed epoch and RewardRoots contract, written
 * inside the epoch's close, drained by the root publisher with retries and backoff.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("reward_root_publications")
    .addColumn("epoch", "bigint", (c) => c.notNull().references("reward_epochs.epoch"))
    .addColumn("contract", "text", (c) => c.notNull())
    .addColumn("root", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().defaultTo("pending"))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "timestamptz", (c) => c.notNull())
    .addColumn("last_error", "text")
    .addColumn("tx_hash", "text")
    .addColumn("block_number", "bigint")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("published_at", "timestamptz")
    .addPrimaryKeyConstraint("reward_root_publications_pk", ["epoch", "contract"])
    .execute();
  await db.schema
    .createIndex("reward_root_publications_due")
    .on("reward_root_publications")
    .columns(["status", "next_attempt_at"])
    .execute();
}

/** Drops the outbox. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("reward_root_publications").execute();
}
