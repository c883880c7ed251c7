import { type Kysely, sql } from "kysely";

/**
 * Group challenges (proof/challenge-groups.ts): when an owner's or an address's devices were last challenged
 * together, so that it happens at most once per re-check interval across all replicas; and an index to find
 * the devices behind one session address.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("proof_group_slots")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("last_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("proof_group_slots_last_at")
    .on("proof_group_slots")
    .column("last_at")
    .execute();
  await sql`create index devices_session_address on devices (session_address) where session_address is not null`.execute(
    db,
  );
}

/** Drops what `up` added. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("devices_session_address").execute();
  await db.schema.dropTable("proof_group_slots").execute();
}
