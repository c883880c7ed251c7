import { type Kysely, sql } from "kysely";

/**
 * A lost rank that found no free device waits for one until `replace_until` (job-finish.ts): the device that
 * would replace it may be between two heartbeats, or back in the pool a moment later. Its unused time is refunded
 * when the wait ends without one, or when the rental ends or is cancelled first.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("cluster_jobs").addColumn("replace_until", "timestamptz").execute();
  // The lifecycle pass looks for waiting ranks every tick; almost no job ever waits.
  await db.schema
    .createIndex("cluster_jobs_replace_until")
    .on("cluster_jobs")
    .column("replace_until")
    .where(sql.ref("replace_until"), "is not", null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("cluster_jobs_replace_until").execute();
  await db.schema.alterTable("cluster_jobs").dropColumn("replace_until").execute();
}
