import { type Kysely, sql } from "kysely";

const APPEND_ONLY = [
  "reward_epochs",
  "rewards",
  "reward_tree_pages",
  "ledger_transactions",
  "ledger_postings",
];

/**
 * Reward seasons, closed epochs with their per-device rewards and stored Merkle tree pages, maintenance windows,
 * the double-entry ledger, and job leases. Reward and ledger rows are append-only: a trigger refuses updates
 * and deletes, so a bug cannot rewrite history. Rewards carry no foreign key to devices: they are a snapshot,
 * and the check would cost an index probe per row at 600,000 devices.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("reward_seasons")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("starts_at", "timestamptz", (c) => c.notNull())
    .addColumn("ends_at", "timestamptz", (c) => c.notNull())
    .addColumn("pool_per_epoch", "bigint", (c) => c.notNull().check(sql`pool_per_epoch >= 0`))
    .addColumn("weights", "jsonb", (c) => c.notNull())
    .addColumn("min_up_minutes", "integer", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint("reward_seasons_range", sql`ends_at > starts_at`)
    .execute();

  await db.schema
    .createTable("reward_epochs")
    .addColumn("epoch", "bigint", (c) => c.primaryKey())
    .addColumn("season_id", "text", (c) => c.notNull().references("reward_seasons.id"))
    .addColumn("starts_at", "timestamptz", (c) => c.notNull())
    .addColumn("ends_at", "timestamptz", (c) => c.notNull())
    .addColumn("root", "text")
    .addColumn("total", "bigint", (c) => c.notNull())
    .addColumn("devices", "integer", (c) => c.notNull())
    .addColumn("units", "bigint", (c) => c.notNull())
    .addColumn("closed_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("rewards")
    .addColumn("epoch", "bigint", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull())
    .addColumn("owner_id", "text", (c) => c.notNull())
    .addColumn("profile", "text", (c) => c.notNull())
    .addColumn("weight", "integer", (c) => c.notNull())
    .addColumn("up_minutes", "integer", (c) => c.notNull())
    .addColumn("amount", "bigint", (c) => c.notNull().check(sql`amount >= 0`))
    .addColumn("tree_index", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("rewards_pk", ["epoch", "device_id"])
    .execute();
  // Earnings by owner; narrow, because every close inserts one entry per paid device at a random place in it.
  await db.schema.createIndex("rewards_owner").on("rewards").columns(["owner_id", "epoch"]).execute();

  await db.schema
    .createTable("reward_tree_pages")
    .addColumn("epoch", "bigint", (c) => c.notNull())
    .addColumn("page_root", "integer", (c) => c.notNull())
    .addColumn("nodes", "bytea", (c) => c.notNull())
    .addPrimaryKeyConstraint("reward_tree_pages_pk", ["epoch", "page_root"])
    .execute();

  await db.schema
    .createTable("maintenance_windows")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("starts_at", "timestamptz", (c) => c.notNull())
    .addColumn("ends_at", "timestamptz", (c) => c.notNull())
    .addColumn("grace_minutes", "integer", (c) => c.notNull())
    .addColumn("lead_minutes", "integer", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("created_by", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint("maintenance_windows_range", sql`ends_at > starts_at`)
    .execute();

  await db.schema
    .createTable("ledger_accounts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("owner_id", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable("ledger_transactions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("seq", "bigserial", (c) => c.notNull().unique())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("reference", "text", (c) => c.notNull().unique())
    .addColumn("details", "jsonb", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable("ledger_postings")
    .addColumn("transaction_id", "text", (c) => c.notNull().references("ledger_transactions.id"))
    .addColumn("account_id", "text", (c) => c.notNull().references("ledger_accounts.id"))
    .addColumn("amount", "bigint", (c) => c.notNull().check(sql`amount <> 0`))
    .addPrimaryKeyConstraint("ledger_postings_pk", ["transaction_id", "account_id"])
    .execute();
  await db.schema.createIndex("ledger_postings_account").on("ledger_postings").column("account_id").execute();

  await db.schema
    .createTable("job_leases")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("holder", "text", (c) => c.notNull())
    .addColumn("acquired_at", "timestamptz", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();

  await sql`create function ignis_refuse_change() returns trigger language plpgsql as $$
    begin raise exception 'table % is append-only', tg_table_name; end $$`.execute(db);
  for (const table of APPEND_ONLY) {
    await sql`create trigger ${sql.id(`${table}_append_only`)} before update or delete on ${sql.table(table)}
      for each row execute function ignis_refuse_change()`.execute(db);
  }
}

/** Drops the reward, ledger and job tables. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    "job_leases",
    "ledger_postings",
    "ledger_transactions",
    "ledger_accounts",
    "maintenance_windows",
    "reward_tree_pages",
    "rewards",
    "reward_epochs",
    "reward_seasons",
  ]) {
    await db.schema.dropTable(t).execute();
  }
  await sql`drop function ignis_refuse_change()`.execute(db);
}
