import type { Kysely } from "kysely";

/**
 * Connectivity tiers: the latest link measurement of each device (round trip and download throughput the server
 * measured over the device's session, and the tier they earn), and the least tier a cluster asked for, kept so
 * a replacement rank is hired under the same floor.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("device_links")
    .addColumn("device_id", "text", (c) => c.primaryKey().references("devices.id").onDelete("cascade"))
    .addColumn("rtt_ms", "double precision", (c) => c.notNull())
    .addColumn("mbps", "double precision", (c) => c.notNull())
    .addColumn("tier", "integer", (c) => c.notNull())
    .addColumn("measured_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema
    .alterTable("clusters")
    .addColumn("min_tier", "integer", (c) => c.notNull().defaultTo(1))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("clusters").dropColumn("min_tier").execute();
  await db.schema.dropTable("device_links").execute();
}
