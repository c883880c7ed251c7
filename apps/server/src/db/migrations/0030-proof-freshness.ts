import { type Kysely, sql } from "kysely";

/**
 * When each device last passed a challenge that verified it (devices/verification.ts): a device earns uptime
 * rewards only while that pass is recent (IGNIS_PROOF_MAX_AGE_SECONDS, epoch-shares.ts), so a device that is never
 * challenged (one its own owner keeps hired, where challenges wait for the rental to end) stops earning. Filled
 * from the passes on record.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("devices").addColumn("proven_at", "timestamptz").execute();
  await sql`
    update devices d set proven_at = p.at
    from (select device_id, max(decided_at) as at from proof_challenges where outcome = 'pass' group by device_id) p
    where p.device_id = d.id and d.verification = 'verified'
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("devices").dropColumn("proven_at").execute();
}
