import type { Kysely } from "kysely";

/**
 * Group rounds: the challenges issued together to the devices of one owner or one session address carry the
 * round's id, so a device that missed a round can be made to pass a round again (verification-state.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("proof_challenges").addColumn("group_round", "text").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("proof_challenges").dropColumn("group_round").execute();
}
