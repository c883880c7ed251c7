import type { Kysely } from "kysely";

/**
 * A device in `conflict` (two machines answered with its key at once) keeps when that was seen and the peer
 * addresses of both sessions, for its owner's view until the owner resolves it. `rotation_requested_at` records
 * a key rotation the owner asked for (or a resolved conflict owes), until the device's next rotation.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("devices")
    .addColumn("conflict_at", "timestamptz")
    .addColumn("conflict_peers", "jsonb")
    .addColumn("rotation_requested_at", "timestamptz")
    .execute();
}

/** Drops the columns. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("devices")
    .dropColumn("conflict_at")
    .dropColumn("conflict_peers")
    .dropColumn("rotation_requested_at")
    .execute();
}
