import { sql } from "kysely";
import type { Db } from "../db/database.js";

/** Tells whether a table exists yet, remembering the answer (a missing one is asked again after a while). */
export interface TableProbe {
  has(table: string): Promise<boolean>;
}

const RECHECK_MISSING_MS = 30_000;

/**
 * The explorer reads tables other modules own (proof challenges, reward epochs) and must keep working on a
 * database where their migrations have not run, so it asks before it reads.
 */
export function createTableProbe(db: Db, now: () => number = Date.now): TableProbe {
  const known = new Map<string, { exists: boolean; at: number }>();
  return {
    async has(table) {
      const seen = known.get(table);
      if (seen && (seen.exists || now() - seen.at < RECHECK_MISSING_MS)) return seen.exists;
      const { rows } = await sql<{ found: string | null }>`select to_regclass(${table}) as found`.execute(db);
      const exists = rows[0]?.found != null;
      known.set(table, { exists, at: now() });
      return exists;
    },
  };
}
