import { type Kysely, sql } from "kysely";

/**
 * Worker versions and upgrades: the release each device's worker announced and, when it is older than the
 * operator's minimum, since when and until when it still earns; signed worker releases (the package bytes live in
 * the database so every replica serves them); staged rollouts and the devices each one offered the update to.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("devices")
    .addColumn("worker_version", "text")
    .addColumn("outdated_since", "timestamptz")
    .addColumn("outdated_earning_until", "timestamptz")
    .execute();

  await db.schema
    .createTable("worker_releases")
    .addColumn("version", "text", (c) => c.primaryKey())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("signature", "text", (c) => c.notNull())
    .addColumn("size", "integer", (c) => c.notNull())
    .addColumn("package", "bytea", (c) => c.notNull())
    .addColumn("notes", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("worker_rollouts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("version", "text", (c) => c.notNull().references("worker_releases.version"))
    .addColumn("percent", "integer", (c) => c.notNull())
    .addColumn("failure_threshold_bps", "integer", (c) => c.notNull())
    .addColumn("comeback_seconds", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("paused_reason", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("worker_rollout_devices")
    .addColumn("rollout_id", "text", (c) => c.notNull().references("worker_rollouts.id"))
    .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
    .addColumn("from_version", "text")
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("offered_at", "timestamptz", (c) => c.notNull())
    .addColumn("settled_at", "timestamptz")
    .addPrimaryKeyConstraint("worker_rollout_devices_pk", ["rollout_id", "device_id"])
    .execute();
  await db.schema
    .createIndex("worker_rollout_devices_open")
    .on("worker_rollout_devices")
    .columns(["rollout_id", "state"])
    .execute();
}

/** Drops the tables and columns. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("worker_rollout_devices").execute();
  await db.schema.dropTable("worker_rollouts").execute();
  await db.schema.dropTable("worker_releases").execute();
  await db.schema
    .alterTable("devices")
    .dropColumn("worker_version")
    .dropColumn("outdated_since")
    .dropColumn("outdated_earning_until")
    .execute();
}
