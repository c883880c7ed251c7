import type { Kysely } from "kysely";

/**
 * Proven memory: whether each challenge carried the memory phase (only workers that announce `proof-vram` get it),
 * so a device's views can say whether its claimed VRAM was ever proven; and a cluster's wish to hire only such
 * devices, kept so a replacement rank is hired under the same rule.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("proof_challenges")
    .addColumn("memory_phase", "boolean", (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .alterTable("clusters")
    .addColumn("require_proven_memory", "boolean", (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("clusters").dropColumn("require_proven_memory").execute();
  await db.schema.alterTable("proof_challenges").dropColumn("memory_phase").execute();
}
