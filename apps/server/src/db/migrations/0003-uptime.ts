import type { Kysely } from "kysely";

/**
 * Up-minutes per device per epoch as a bitmask of minute slots, so that flushing the same minute twice (a retry,
 * two replicas) is an idempotent OR and never double counts.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("uptime")
    .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
    .addColumn("epoch", "bigint", (c) => c.notNull())
    .addColumn("minute_mask", "bigint", (c) => c.notNull())
    .addColumn("up_minutes", "integer", (c) => c.notNull())
    .addColumn("credited_mask", "bigint", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("uptime_pk", ["epoch", "device_id"])
    .execute();
  await db.schema.createIndex("uptime_device").on("uptime").columns(["device_id", "epoch"]).execute();
}

/** Drops the uptime table. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("uptime").execute();
}
