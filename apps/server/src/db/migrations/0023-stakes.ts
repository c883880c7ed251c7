import { type Kysely, sql } from "kysely";

/**
 * Stakes and slashes (issue #17). A stake is bonded by a supplier for one device and paid from their earnings;
 * its money sits in the ledger account `stake:<stakeId>` and `bonded` mirrors that balance in the same
 * transaction, so eligibility is one indexed read. A slash takes part of the stakes of a device that failed a
 * fraud-class proof, with the challenge's transcript kept as evidence; one slash per challenge at most.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("stakes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
    .addColumn("owner_id", "text", (c) => c.notNull().references("users.id"))
    .addColumn("amount", "bigint", (c) => c.notNull().check(sql`amount > 0`))
    .addColumn("bonded", "bigint", (c) => c.notNull().check(sql`bonded >= 0`))
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('bonded', 'unbonding', 'released')`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("unbond_requested_at", "timestamptz")
    .addColumn("release_at", "timestamptz")
    .addColumn("released_at", "timestamptz")
    .execute();
  await db.schema.createIndex("stakes_device").on("stakes").columns(["device_id", "status"]).execute();
  await db.schema.createIndex("stakes_owner").on("stakes").columns(["owner_id", "created_at"]).execute();
  await db.schema
    .createIndex("stakes_unbonding")
    .on("stakes")
    .column("release_at")
    .where(sql.ref("status"), "=", "unbonding")
    .execute();

  await db.schema
    .createTable("slashes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
    .addColumn("owner_id", "text", (c) => c.notNull().references("users.id"))
    .addColumn("challenge_id", "text", (c) => c.notNull().unique().references("proof_challenges.id"))
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("amount", "bigint", (c) => c.notNull().check(sql`amount > 0`))
    /** `[{ stakeId, amount }]`: what each stake gave, so a refund returns it exactly. */
    .addColumn("legs", "jsonb", (c) => c.notNull())
    .addColumn("transcript", "jsonb", (c) => c.notNull())
    .addColumn("transcript_hash", "text", (c) => c.notNull())
    .addColumn("at", "timestamptz", (c) => c.notNull())
    .addColumn("appeal_status", "text", (c) =>
      c.check(sql`appeal_status in ('pending', 'refunded', 'rejected')`),
    )
    .addColumn("appeal_reason", "text")
    .addColumn("appealed_at", "timestamptz")
    .addColumn("appeal_challenge_id", "text")
    .addColumn("appeal_resolved_at", "timestamptz")
    .execute();
  await db.schema.createIndex("slashes_at").on("slashes").columns(["at", "id"]).execute();
  await db.schema
    .createIndex("slashes_device")
    .on("slashes")
    .columns(["device_id", "appeal_status"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("slashes").execute();
  await db.schema.dropTable("stakes").execute();
}
