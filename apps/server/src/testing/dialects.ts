import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe } from "vitest";
import { type OpenDatabase, openDatabase } from "../db/database.js";
import { migrateToLatest } from "../db/migrate.js";

/** The databases every storage suite runs against. */
export type DialectName = "pglite" | "postgres";

/** Admin URL of the PostgreSQL used by tests; each suite creates and drops its own database there. */
export const TEST_POSTGRES_URL =
  process.env.IGNIS_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function probePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const postgresProblem = await probePostgres();
if (postgresProblem) {
  if (process.env.IGNIS_TEST_REQUIRE_POSTGRES === "1") {
    throw new Error(
      `PostgreSQL is required (IGNIS_TEST_REQUIRE_POSTGRES=1) but unreachable at ${TEST_POSTGRES_URL}: ${postgresProblem}`,
    );
  }
  console.warn(
    `[ignis tests] skipping PostgreSQL suites: ${TEST_POSTGRES_URL} unreachable (${postgresProblem})`,
  );
}

/** Dialects available in this run, PGlite always first. */
export const AVAILABLE_DIALECTS: DialectName[] = postgresProblem ? ["pglite"] : ["pglite", "postgres"];

/** A fresh, migrated, empty database of the given dialect, with a URL when it is PostgreSQL. */
export async function createTestDatabase(dialect: DialectName): Promise<OpenDatabase & { url?: string }> {
  if (dialect === "pglite") {
    const database = await openDatabase({});
    await migrateToLatest(database.db);
    return database;
  }
  const name = `ignis_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 10 });
  await migrateToLatest(database.db);
  return {
    ...database,
    url: url.toString(),
    async close() {
      await database.close();
      const dropper = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

/**
 * Runs one suite once per available dialect (kysely's per-dialect loop). The callback gets a getter for the
 * suite's database, created fresh before the suite and dropped after it.
 */
export function describeEachDialect(
  name: string,
  suite: (database: () => OpenDatabase, dialect: DialectName) => void,
): void {
  for (const dialect of AVAILABLE_DIALECTS) {
    describe(`${name} [${dialect}]`, () => {
      let database: OpenDatabase | undefined;
      beforeAll(async () => {
        database = await createTestDatabase(dialect);
      });
      afterAll(async () => {
        await database?.close();
      });
      suite(() => {
        if (!database) throw new Error("test database not ready");
        return database;
      }, dialect);
    });
  }
}
