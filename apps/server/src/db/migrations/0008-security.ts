import { type Kysely, sql } from "kysely";

/**
 * Security alerts, the shared rate-limit store, and a trigger that makes the audit log append-only at the
 * database level (the hash chain still catches anyone who disables the trigger).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("security_alerts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("rule", "text", (c) => c.notNull())
    .addColumn("severity", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().defaultTo("open"))
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("actor_type", "text")
    .addColumn("actor_id", "text")
    .addColumn("credential_id", "text")
    .addColumn("ip", "text")
    .addColumn("object_type", "text")
    .addColumn("object_id", "text")
    .addColumn("evidence", "jsonb", (c) => c.notNull())
    .addColumn("containment", "jsonb", (c) => c.notNull())
    .addColumn("contained", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("acknowledged_at", "timestamptz")
    .addColumn("acknowledged_by", "text")
    .addColumn("released_at", "timestamptz")
    .addColumn("released_by", "text")
    .addColumn("review_note", "text")
    .addCheckConstraint("security_alerts_status", sql`status in ('open', 'acknowledged', 'released')`)
    .execute();
  await db.schema
    .createIndex("security_alerts_newest")
    .on("security_alerts")
    .columns(["created_at desc", "id desc"])
    .execute();
  await db.schema
    .createIndex("security_alerts_subject")
    .on("security_alerts")
    .columns(["rule", "subject", "status"])
    .execute();

  // rate-limiter-flexible's PostgreSQL store (one table; each budget class has its own key prefix).
  await db.schema
    .createTable("rate_limits")
    .addColumn("key", "varchar(255)", (c) => c.primaryKey())
    .addColumn("points", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("expire", "bigint")
    .execute();

  await sql`
    create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only' using errcode = '42501';
    end
    $$`.execute(db);
  await sql`
    create trigger audit_log_no_update before update or delete on audit_log
    for each row execute function audit_log_append_only()`.execute(db);
  await sql`
    create trigger audit_log_no_truncate before truncate on audit_log
    for each statement execute function audit_log_append_only()`.execute(db);
}

/** Drops the security tables and the append-only trigger. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists audit_log_no_truncate on audit_log`.execute(db);
  await sql`drop trigger if exists audit_log_no_update on audit_log`.execute(db);
  await sql`drop function if exists audit_log_append_only()`.execute(db);
  await db.schema.dropTable("rate_limits").execute();
  await db.schema.dropTable("security_alerts").execute();
}
