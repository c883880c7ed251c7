import { type Kysely, sql } from "kysely";

/** Devices, their keys (several during a rotation overlap) and single-use enrollment codes. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("devices")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("owner_id", "text", (c) => c.notNull().references("users.id"))
    .addColumn("label", "text")
    .addColumn("label_public", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("status", "text", (c) => c.notNull().defaultTo("pending"))
    .addColumn("verification", "text", (c) => c.notNull().defaultTo("unverified"))
    .addColumn("profile", "text", (c) => c.notNull())
    .addColumn("gpu_vendor", "text", (c) => c.notNull())
    .addColumn("gpu_model", "text", (c) => c.notNull())
    .addColumn("gpu_count", "integer", (c) => c.notNull())
    .addColumn("vram_gb", "integer", (c) => c.notNull())
    .addColumn("region", "text", (c) => c.notNull().defaultTo("unknown"))
    .addColumn("hardware", "jsonb", (c) => c.notNull())
    .addColumn("hardware_changed_at", "timestamptz")
    .addColumn("min_price_per_hour", "bigint")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("last_seen_at", "timestamptz")
    .addColumn("verified_at", "timestamptz")
    .addColumn("quarantined_at", "timestamptz")
    .addColumn("revoked_at", "timestamptz")
    .execute();
  await db.schema.createIndex("devices_owner").on("devices").column("owner_id").execute();
  await db.schema.createIndex("devices_status").on("devices").columns(["status", "id"]).execute();
  await db.schema.createIndex("devices_model").on("devices").columns(["gpu_model", "id"]).execute();

  await db.schema
    .createTable("device_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("device_id", "text", (c) => c.notNull().references("devices.id"))
    .addColumn("public_key", "text", (c) => c.notNull().unique())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("retire_at", "timestamptz")
    .addColumn("retired_at", "timestamptz")
    .execute();
  await db.schema.createIndex("device_keys_device").on("device_keys").column("device_id").execute();

  await db.schema
    .createTable("enrollment_codes")
    .addColumn("code_hash", "text", (c) => c.primaryKey())
    .addColumn("owner_id", "text", (c) => c.notNull().references("users.id"))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("used_at", "timestamptz")
    .addColumn("device_id", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

/** Drops the device tables. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ["enrollment_codes", "device_keys", "devices"]) await db.schema.dropTable(t).execute();
}
