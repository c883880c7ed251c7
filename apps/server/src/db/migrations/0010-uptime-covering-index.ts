import { type Kysely, sql } from "kysely";

/**
 * A device's uptime rows lie on as many heap pages as it has epochs (rows arrive epoch by epoch, interleaved with
 * every other device), so the explorer's 30-day chart read about 720 pages per device page. Carrying up_minutes
 * in the (device_id, epoch) index lets it read the month from a few index pages instead (an index-only scan).
 *
 * Migrations run in one transaction, so the index is built without CONCURRENTLY: on a large existing table,
 * flushes wait for the build and buffer their minutes meanwhile (docs/deploy.md, "Upgrades").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // An operator may have built it CONCURRENTLY beforehand (docs/deploy.md); then this only drops the old one.
  await sql`create index if not exists uptime_device_minutes on uptime (device_id, epoch) include (up_minutes)`.execute(
    db,
  );
  await db.schema.dropIndex("uptime_device").ifExists().execute();
}

/** Restores the plain (device_id, epoch) index. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex("uptime_device").on("uptime").columns(["device_id", "epoch"]).execute();
  await db.schema.dropIndex("uptime_device_minutes").execute();
}
