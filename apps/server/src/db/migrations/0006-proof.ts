import { type Kysely, sql } from "kysely";

/**
 * Proof of GPU: one row per challenge with its sizes and timings (never its seeds, which live only in the
 * memory of the replica that issued it), and admin reviews that clear a quarantine.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("proof_challenges")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
    .addColumn("profile", "text", (c) => c.notNull())
    .addColumn("gpu_count", "integer", (c) => c.notNull())
    .addColumn("n", "integer", (c) => c.notNull())
    .addColumn("inner_dim", "integer", (c) => c.notNull())
    .addColumn("batch", "integer", (c) => c.notNull())
    .addColumn("reveal_rows", "integer", (c) => c.notNull())
    .addColumn("expected_ms", "double precision", (c) => c.notNull())
    .addColumn("deadline_ms", "integer", (c) => c.notNull())
    .addColumn("rtt_ms", "integer", (c) => c.notNull())
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("replica", "text", (c) => c.notNull())
    .addColumn("issued_at", "timestamptz", (c) => c.notNull())
    .addColumn("commit_at", "timestamptz")
    .addColumn("reveal_requested_at", "timestamptz")
    .addColumn("reveal_at", "timestamptz")
    .addColumn("decided_at", "timestamptz")
    .addColumn("outcome", "text", (c) => c.notNull().defaultTo("pending"))
    .addColumn("reason", "text")
    .addColumn("detail", "text")
    .addColumn("commit_latency_ms", "integer")
    .addColumn("rows_checked", "integer")
    .addColumn("verify_cpu_ms", "double precision")
    .addCheckConstraint(
      "proof_challenges_outcome",
      sql`outcome in ('pending', 'pass', 'fail', 'timeout', 'cancelled')`,
    )
    .execute();
  await db.schema
    .createIndex("proof_challenges_device")
    .on("proof_challenges")
    .columns(["device_id", "issued_at desc"])
    .execute();

  await db.schema
    .createTable("proof_reviews")
    .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
    .addColumn("reviewed_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("reviewed_by", "text", (c) => c.notNull().references("users.id"))
    .addColumn("note", "text")
    .execute();
  await db.schema
    .createIndex("proof_reviews_device")
    .on("proof_reviews")
    .columns(["device_id", "reviewed_at desc"])
    .execute();
}

/** Drops what `up` created. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("proof_reviews").execute();
  await db.schema.dropTable("proof_challenges").execute();
}
