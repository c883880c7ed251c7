import type { Kysely } from "kysely";

/**
 * Containment by principal (security/containment.ts): a write surge suspends the user, every key and session
 * of theirs, until an admin releases the alert; the reason names that alert.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("users")
    .addColumn("suspended_at", "timestamptz")
    .addColumn("suspended_reason", "text")
    .execute();
}

/** Drops what `up` added. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("users").dropColumn("suspended_reason").dropColumn("suspended_at").execute();
}
