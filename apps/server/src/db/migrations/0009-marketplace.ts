import { type Kysely, sql } from "kysely";

/**
 * The marketplace: clusters a customer rents, one job row per rank and device (a replacement adds a row),
 * metered minutes (one row per cluster rank and billing minute, so metering twice is a no-op) and job logs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("clusters")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("customer_id", "text", (c) => c.notNull().references("users.id"))
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("gpu_model", "text", (c) => c.notNull())
    .addColumn("count", "integer", (c) => c.notNull())
    .addColumn("hours", "integer", (c) => c.notNull())
    .addColumn("region", "text")
    .addColumn("max_price_per_hour", "bigint")
    .addColumn("hold_price_per_hour", "bigint", (c) => c.notNull())
    .addColumn("job", "jsonb", (c) => c.notNull())
    .addColumn("archive", "text")
    .addColumn("archive_bytes", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("head_port", "integer", (c) => c.notNull())
    .addColumn("billing_minute_ms", "integer", (c) => c.notNull())
    .addColumn("fee_bps", "integer", (c) => c.notNull())
    .addColumn("held", "bigint", (c) => c.notNull())
    .addColumn("charged", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("fees", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("refunded", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("starts_at", "timestamptz", (c) => c.notNull())
    .addColumn("ends_at", "timestamptz", (c) => c.notNull())
    .addColumn("ended_at", "timestamptz")
    .addColumn("end_reason", "text")
    .addColumn("settled_at", "timestamptz")
    .execute();
  await db.schema.createIndex("clusters_customer").on("clusters").columns(["customer_id", "id"]).execute();
  await db.schema.createIndex("clusters_open").on("clusters").columns(["settled_at", "status"]).execute();

  await db.schema
    .createTable("cluster_jobs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("cluster_id", "text", (c) => c.notNull().references("clusters.id"))
    .addColumn("rank", "integer", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
    .addColumn("supplier_id", "text", (c) => c.notNull().references("users.id"))
    .addColumn("price_per_hour", "bigint", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("active", "boolean", (c) => c.notNull().defaultTo(true))
    .addColumn("exit_code", "integer")
    .addColumn("error", "text")
    .addColumn("runner", "text")
    .addColumn("replaces", "text")
    .addColumn("assigned_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("started_at", "timestamptz")
    .addColumn("ended_at", "timestamptz")
    .addColumn("settled_minutes", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("settled_amount", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("settled_fee", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("log_bytes", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex("cluster_jobs_cluster")
    .on("cluster_jobs")
    .columns(["cluster_id", "rank"])
    .execute();
  // A device holds at most one active job: a second hire of the same device fails at the database.
  await db.schema
    .createIndex("cluster_jobs_one_active_per_device")
    .on("cluster_jobs")
    .column("device_id")
    .unique()
    .where(sql.ref("active"), "=", true)
    .execute();
  await db.schema
    .createIndex("cluster_jobs_device")
    .on("cluster_jobs")
    .columns(["device_id", "state"])
    .execute();

  await db.schema
    .createTable("cluster_minutes")
    .addColumn("cluster_id", "text", (c) => c.notNull().references("clusters.id"))
    .addColumn("rank", "integer", (c) => c.notNull())
    .addColumn("minute", "integer", (c) => c.notNull())
    .addColumn("job_id", "text", (c) => c.notNull().references("cluster_jobs.id"))
    .addColumn("device_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("cluster_minutes_pk", ["cluster_id", "rank", "minute"])
    .execute();
  await db.schema.createIndex("cluster_minutes_job").on("cluster_minutes").column("job_id").execute();

  await db.schema
    .createTable("cluster_logs")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("cluster_id", "text", (c) => c.notNull().references("clusters.id"))
    .addColumn("job_id", "text", (c) => c.notNull())
    .addColumn("rank", "integer", (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("stream", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex("cluster_logs_cluster")
    .on("cluster_logs")
    .columns(["cluster_id", "id"])
    .execute();
  await db.schema
    .createIndex("cluster_logs_job_seq")
    .on("cluster_logs")
    .columns(["job_id", "seq"])
    .unique()
    .execute();
}

/** Drops the marketplace tables. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ["cluster_logs", "cluster_minutes", "cluster_jobs", "clusters"]) {
    await db.schema.dropTable(t).execute();
  }
}
