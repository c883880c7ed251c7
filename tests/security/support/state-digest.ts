import { sql } from "kysely";
import type { OpenDatabase } from "../../../apps/server/src/db/database.js";

/**
 * A digest of every table but the audit log: two equal digests mean the requests in between changed nothing.
 * A key's last use is the authentication's, not the write's; job leases are renewed by the replica's background
 * jobs; `skip` names further tables a caller expects to move (the security monitor's alerts, for example).
 */
export async function stateDigest(
  db: OpenDatabase["db"],
  skip: readonly string[] = [],
): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'
      and table_name not in ('audit_log', 'job_leases')
    order by table_name`.execute(db);
  const names = tables.rows.map((r) => r.name).filter((name) => !skip.includes(name));
  // One statement for all tables: a digest is taken around every write the suites try.
  const rows = await sql<{ name: string; h: string | null }>`${sql.join(
    names.map(
      (name) => sql`select ${name}::text as name, (select md5(string_agg(r, '|' order by r))
        from (select (to_jsonb(t) - 'last_used_at')::text as r from ${sql.table(name)} t) rows) as h`,
    ),
    sql` union all `,
  )}`.execute(db);
  const digest: Record<string, string> = {};
  for (const { name, h } of rows.rows) digest[name] = h ?? "empty";
  return digest;
}

/** The tables whose digest differs between two digests. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(after).filter((name) => before[name] !== after[name]);
}
