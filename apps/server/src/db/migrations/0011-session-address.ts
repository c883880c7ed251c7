import type { Kysely } from "kysely";

/**
 * The peer address of a device's latest worker session, so that whichever replica starts a cluster can tell every
 * rank where rank 0 is (IGNIS_HEAD_ADDR), even when rank 0's session is on another replica. Private: it is read
 * for rendezvous only and never appears in a public, owner or renter view.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("devices").addColumn("session_address", "text").execute();
}

/** Drops the column. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("devices").dropColumn("session_address").execute();
}
