import { type Kysely, sql } from "kysely";

/**
 * Worker sessions: the last heartbeat's load on the device record (written with the batched uptime flush, never
 * per heartbeat) and fleet key migrations ("every device rotates its key by T").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("devices").addColumn("last_heartbeat", "jsonb").execute();

  await db.schema
    .createTable("key_migrations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("started_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("rotate_by", "timestamptz", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull().references("users.id"))
    .addColumn("note", "text")
    .execute();
  await db.schema.createIndex("key_migrations_rotate_by").on("key_migrations").column("rotate_by").execute();
  await db.schema
    .createIndex("enrollment_codes_owner")
    .on("enrollment_codes")
    .columns(["owner_id", "created_at"])
    .execute();
}

/** Drops what `up` added. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("enrollment_codes_owner").execute();
  await db.schema.dropTable("key_migrations").execute();
  await db.schema.alterTable("devices").dropColumn("last_heartbeat").execute();
}
