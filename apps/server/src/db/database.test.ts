import { sql } from "kysely";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { AVAILABLE_DIALECTS, createTestDatabase } from "../testing/dialects.js";
import { waitFor } from "../testing/wait-for.js";

// A client that loses its server while checked out (inside a transaction here) used to emit an `error` nobody
// listened to, and Node crashed the process: one PostgreSQL restart during a flush took every replica down.
describe.runIf(AVAILABLE_DIALECTS.includes("postgres"))("PostgreSQL connection loss", () => {
  it("fails the transaction whose connection was cut, keeps the process, and serves the next query", async () => {
    const database = await createTestDatabase("postgres");
    try {
      const killer = new pg.Client({ connectionString: database.url });
      await killer.connect();
      const outcome = await database.db
        .transaction()
        .execute(async (tx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
          // The server ends this connection while the transaction holds it between two statements.
          await killer.query("select pg_terminate_backend($1)", [rows[0]!.pid]);
          await waitFor("the server to end the connection", async () => {
            const alive = await killer.query("select 1 from pg_stat_activity where pid = $1", [rows[0]!.pid]);
            return alive.rowCount === 0;
          });
          await sql`select 1`.execute(tx);
          return "committed";
        })
        .catch((error: unknown) => `failed: ${(error as Error).message}`);
      await killer.end();
      expect(outcome).toMatch(/^failed: /);
      const { rows } = await sql<{ ok: number }>`select 1 as ok`.execute(database.db);
      expect(rows).toEqual([{ ok: 1 }]);
    } finally {
      await database.close();
    }
  });
});
