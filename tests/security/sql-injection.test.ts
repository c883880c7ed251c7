import fc from "fast-check";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createUserWithKey, insertDevices } from "../../apps/server/src/security/security-fixtures.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { ROUTE_MATRIX } from "./route-matrix.js";
import { deepestPov, payloadArb, queryParamsFrom, slotsOf } from "./support/injection.js";
import { buildWorld, type World } from "./support/world.js";

const RUNS_PER_SLOT = 6;
// Server-rendered pages answer errors as HTML, not problem+json.
const HTML_PAGES = /^(GET|POST) \/(interaction|invite)\/|^GET \/\*$/;
// Tables whose rows the system itself appends to or rewrites while requests run.
const VOLATILE = new Set([
  "audit_log",
  "security_alerts",
  "rate_limits",
  "oidc_payloads",
  "kysely_migration",
  "kysely_migration_lock",
]);

async function tableCounts(w: World): Promise<Map<string, number>> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(
    w.db,
  );
  const counts = new Map<string, number>();
  for (const { table_name } of tables.rows) {
    if (VOLATILE.has(table_name)) continue;
    const r = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(table_name)}`.execute(
      w.db,
    );
    counts.set(table_name, Number(r.rows[0]!.n));
  }
  return counts;
}

async function bystanderRows(w: World, userId: string): Promise<string> {
  const rows = await Promise.all([
    sql`select u::text as r from users u where id = ${userId}`.execute(w.db),
    sql`select k::text as r from api_keys k where user_id = ${userId} order by id`.execute(w.db),
    sql`select d::text as r from devices d where owner_id = ${userId} order by id`.execute(w.db),
  ]);
  return JSON.stringify(rows.map((r) => r.rows));
}

describeEachDialect("SQL injection in every path parameter, query parameter and string field", (database) => {
  let w: World;
  let bystander: { userId: string };
  let queryParams: Map<string, string[]>;
  const seed = Date.now() % 1_000_000;

  beforeAll(async () => {
    w = await buildWorld(database());
    bystander = await createUserWithKey(w.db, ["supplier"]);
    await insertDevices(w.db, bystander.userId, 3, { status: "offline", labelPrefix: "bystander" });
    queryParams = queryParamsFrom(await (await fetch(`${w.t.url}/openapi.json`)).json());
  });
  afterAll(() => w.t.stop());

  // Several hundred requests: well under 30 s alone, but a loaded CI machine needs more.
  it(`answers every injected request with a 4xx or a 2xx, never a 5xx, and touches nothing outside its scope (seed ${seed})`, {
    timeout: 120_000,
  }, async () => {
    const before = await tableCounts(w);
    const bystanderBefore = await bystanderRows(w, bystander.userId);
    const failures: string[] = [];
    let requests = 0;
    for (const row of ROUTE_MATRIX) {
      const [method] = row.route.split(" ") as [string];
      if (row.route.includes(" /oidc")) continue; // the embedded provider's own input handling is its own suite's
      const pov = deepestPov(row);
      const base = row.request ? await row.request(w, pov) : { path: row.route.split(" ")[1]! };
      for (const slot of slotsOf(row.route, base, queryParams.get(row.route) ?? [])) {
        const payloads = fc.sample(payloadArb, { numRuns: RUNS_PER_SLOT, seed: seed + requests });
        for (const payload of payloads) {
          const fresh = row.request ? await row.request(w, pov) : base;
          const injected = slotsOf(row.route, fresh, queryParams.get(row.route) ?? []).find(
            (s) => s.kind === slot.kind && s.name === slot.name,
          )!;
          const req = injected.inject(payload);
          requests += 1;
          const res = await w.call(pov, method, req.path, req.body);
          const text = await res.text();
          if (res.status >= 500)
            failures.push(
              `${row.route} ${slot.kind}:${slot.name}=${JSON.stringify(payload)} → ${res.status} ${text.slice(0, 120)}`,
            );
          else if (res.status >= 400 && !text.includes('"code"') && !HTML_PAGES.test(row.route))
            failures.push(`${row.route} ${slot.kind}:${slot.name} → ${res.status} without a problem code`);
        }
      }
    }
    expect(requests).toBeGreaterThan(200);
    expect(failures).toEqual([]);
    expect(await bystanderRows(w, bystander.userId), "a bystander's rows changed").toBe(bystanderBefore);
    const after = await tableCounts(w);
    const shrunk = [...before].filter(([table, n]) => (after.get(table) ?? 0) < n).map(([t]) => t);
    expect(shrunk, "tables that lost rows").toEqual([]);
  });
});
