import type { Db } from "./database.js";

/**
 * Runs `work` in a transaction: the caller's when `db` already is one (a route's write transaction that also
 * holds its audit record, http/audited-write.ts), else a new one. Kysely cannot nest transactions, and a
 * domain operation that must be atomic on its own must also be able to join a larger unit.
 */
export function inTransaction<T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}
