import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { ROUTE_MATRIX } from "./route-matrix.js";
import { deviceDefault } from "./support/matrix-presets.js";
import { buildWorld, POVS, type Pov, type World } from "./support/world.js";

// Refusals first, so an allowed cell that changes an object cannot change what a refused cell sees.
const CELL_ORDER: Pov[] = ["anonymous", "deviceA", "deviceB", "otherSupplier", "customer", "owner", "admin"];

interface Cell {
  route: string;
  pov: Pov;
  method: string;
  path: string;
  requestId: string;
  expected: number;
  actual: number;
  code: string | undefined;
}

function registeredRoutes(w: World): string[] {
  const routes = w.t.server.routeTable.filter((r) => r.method !== "HEAD").map((r) => `${r.method} ${r.url}`);
  return [...new Set(routes)].sort();
}

describeEachDialect("authorization matrix (role × route)", (database) => {
  let w: World;
  const cells: Cell[] = [];

  beforeAll(async () => {
    w = await buildWorld(database());
  });
  afterAll(() => w.t.stop());

  it("has a reviewed row for every route the server registers, and no row for a route that is gone", () => {
    const rows = ROUTE_MATRIX.map((r) => r.route);
    const duplicates = rows.filter((r, i) => rows.indexOf(r) !== i);
    expect(duplicates, "routes with two rows").toEqual([]);
    const registered = registeredRoutes(w);
    expect(
      registered.filter((r) => !rows.includes(r)),
      "routes without a row in tests/security/route-matrix.ts",
    ).toEqual([]);
    expect(
      rows.filter((r) => !registered.includes(r)),
      "rows for routes the server no longer has",
    ).toEqual([]);
  });

  it("gives every point of view exactly the expected status on every route", async () => {
    let n = 0;
    for (const row of ROUTE_MATRIX) {
      const [method, url] = row.route.split(" ") as [string, string];
      for (const pov of CELL_ORDER) {
        const expected =
          row.expect[pov] ??
          (pov.startsWith("device") ? deviceDefault(row.route, row.expect.anonymous) : undefined);
        if (expected === undefined) throw new Error(`${row.route}: no expectation for ${pov}`);
        const req = row.request ? await row.request(w, pov) : { path: url };
        n += 1;
        const requestId = `mx-${n}-${pov}-${Date.now().toString(36)}`;
        const res = await w.call(pov, method, req.path, req.body, {
          "x-request-id": requestId,
          ...req.headers,
        });
        const text = await res.text();
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as { code?: string }).code;
        } catch {
          code = undefined;
        }
        cells.push({
          route: row.route,
          pov,
          method,
          path: req.path,
          requestId,
          expected,
          actual: res.status,
          code,
        });
      }
    }
    const wrong = cells
      .filter((c) => c.actual !== c.expected)
      .map(
        (c) =>
          `${c.route} as ${c.pov}: expected ${c.expected}, got ${c.actual}${c.code ? ` (${c.code})` : ""}`,
      );
    expect(wrong).toEqual([]);
    expect(cells.length).toBe(ROUTE_MATRIX.length * POVS.length);
  });

  it("never answers a cell with a server error", () => {
    expect(cells.filter((c) => c.actual >= 500).map((c) => `${c.route} as ${c.pov}: ${c.actual}`)).toEqual(
      [],
    );
  });

  it("leaves an audit record for every refusal, every write and every signed-in probe of an object", async () => {
    const selfAuthenticating = (path: string) => path.startsWith("/oidc") || path.startsWith("/v1/worker/");
    const mustAudit = cells.filter(
      (c) =>
        !selfAuthenticating(c.path) &&
        (c.actual === 401 ||
          c.actual === 403 ||
          (c.method !== "GET" && c.method !== "OPTIONS") ||
          (c.actual === 404 && c.pov !== "anonymous" && /\/(dev|cls|key|usr|alr)_/.test(c.path))),
    );
    expect(mustAudit.length).toBeGreaterThan(100);
    const ids = new Set<string>();
    for (let i = 0; i < mustAudit.length; i += 200) {
      const rows = await w.db
        .selectFrom("audit_log")
        .select("request_id")
        .where(
          "request_id",
          "in",
          mustAudit.slice(i, i + 200).map((c) => c.requestId),
        )
        .execute();
      for (const r of rows) if (r.request_id) ids.add(r.request_id);
    }
    expect(
      mustAudit.filter((c) => !ids.has(c.requestId)).map((c) => `${c.route} as ${c.pov} (${c.actual})`),
    ).toEqual([]);
  });
});
