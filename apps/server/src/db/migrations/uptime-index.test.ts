import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachDialect } from "../../testing/dialects.js";

describeEachDialect("uptime index for device pages", (database) => {
  it("carries up_minutes in the (device_id, epoch) index and no longer keeps the plain one", async () => {
    const { rows } = await sql<{ indexname: string; indexdef: string }>`
      select indexname, indexdef from pg_indexes where tablename = 'uptime' order by indexname`.execute(
      database().db,
    );
    expect(rows.map((r) => r.indexname)).toEqual(["uptime_device_minutes", "uptime_pk"]);
    expect(rows[0]?.indexdef).toMatch(/\(device_id, epoch\) INCLUDE \(up_minutes\)/);
  });

  it("sums a device's month from the index alone", async () => {
    const db = database().db;
    // Planner costs on a near-empty table favour a sequential scan; forbid the alternatives to see the index path.
    const plan = await db.transaction().execute(async (tx) => {
      await sql`set local enable_seqscan = off`.execute(tx);
      await sql`set local enable_bitmapscan = off`.execute(tx);
      const { rows } = await sql<{ "QUERY PLAN": string }>`explain select sum(up_minutes) from uptime
        where device_id = 'dev_x' and epoch >= 100`.execute(tx);
      return rows.map((r) => r["QUERY PLAN"]).join("\n");
    });
    expect(plan).toContain("Index Only Scan using uptime_device_minutes");
  });
});
