import { type Kysely, sql } from "kysely";

/**
 * Round coverage: a pass in a group round clears a round the device missed only when the round also challenged
 * every device of the missed one that still counts (round-coverage.ts). A pass that left such a device out is
 * marked, stays on record as a pass, and clears nothing: one GPU cannot clear a device it shares by taking the
 * other device offline for the retry round.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("proof_challenges")
    .addColumn("round_incomplete", "boolean", (c) => c.notNull().defaultTo(false))
    .execute();
  // A round's devices are looked up by its id (round-coverage.ts); most challenges are in no round.
  await db.schema
    .createIndex("proof_challenges_group_round")
    .on("proof_challenges")
    .column("group_round")
    .where(sql.ref("group_round"), "is not", null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("proof_challenges_group_round").execute();
  await db.schema.alterTable("proof_challenges").dropColumn("round_incomplete").execute();
}
