import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import pg from "pg";
import { lockDataDir } from "./data-dir-lock.js";
import type { Database } from "./schema.js";

/** The Kysely handle every storage function takes first; a transaction has the same type. */
export type Db = Kysely<Database>;

/** An open database with what is needed to report on it and close it. */
export interface OpenDatabase {
  db: Db;
  dialect: "postgres" | "pglite";
  /** Connections in use and idle, for the metrics endpoint (PGlite has exactly one). */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

// bigint columns arrive as strings from pg; keep them as strings and convert where the domain needs BigInt.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

/** Opens PostgreSQL when a URL is given, otherwise an embedded PGlite in `dataDir/pgdata` (or memory). */
export async function openDatabase(options: {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  poolSize?: number;
}): Promise<OpenDatabase> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // A client losing its server (a PostgreSQL restart or failover, a network cut) emits `error`. The pool
    // listens only while a client is idle; a client checked out for a query or a transaction has no listener,
    // and Node turns an unheard `error` into a crash of the whole replica. The query in flight rejects on its
    // own, and the pool discards the client when it is released, so listening is all that is needed.
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      dialect: "postgres",
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      close: () => db.destroy(),
    };
  }
  let dataPath: string | undefined;
  let release = () => {};
  if (options.dataDir) {
    dataPath = join(options.dataDir, "pgdata");
    mkdirSync(dataPath, { recursive: true, mode: 0o700 });
    // PGlite has no lock of its own: two processes on one directory lose each other's writes.
    release = lockDataDir(options.dataDir);
  }
  // bigint (int8) columns come back as decimal strings, exactly as from pg above, so domain code sees one shape.
  const pgliteOptions = { parsers: { [pg.types.builtins.INT8]: (v: string) => v } };
  let db: Db;
  try {
    const pglite = dataPath ? new PGlite(dataPath, pgliteOptions) : new PGlite(pgliteOptions);
    await pglite.waitReady;
    db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  } catch (error) {
    release();
    throw error;
  }
  return {
    db,
    dialect: "pglite",
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    close: async () => {
      try {
        await db.destroy();
      } finally {
        release();
      }
    },
  };
}
