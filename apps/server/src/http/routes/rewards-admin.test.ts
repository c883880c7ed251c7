import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";

const DAY = 86_400_000;

describeEachDialect("reward seasons and maintenance windows (admin)", (database) => {
  let t: TestServer;
  let supplierKey: string;
  let weights: Record<string, number>;
  const inDays = (days: number) => new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY).toISOString();

  const call = async (method: string, path: string, key: string | undefined, body?: unknown) => {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { code?: string } };
  };
  const season = (overrides: Record<string, unknown>) => ({
    name: `s-${Math.random().toString(36).slice(2, 8)}`,
    startsAt: inDays(400),
    endsAt: inDays(430),
    poolPerEpoch: "5000000",
    weights,
    minUpMinutes: 30,
    ...overrides,
  });

  beforeAll(async () => {
    t = await startTestServer({ database: database() });
    weights = Object.fromEntries(t.server.ctx.rewards.knownProfiles.map((p) => [p, 2]));
    const user = await call("POST", "/v1/admin/users", t.adminKey, {
      email: "s@example.com",
      roles: ["supplier"],
    });
    supplierKey = (await call("POST", `/v1/admin/users/${user.body.id}/api-keys`, t.adminKey, { name: "k" }))
      .body.key as string;
  });
  afterAll(() => t.stop());

  it("creates the default season on first start, with a weight for every hardware profile", async () => {
    const { body } = await call("GET", "/v1/rewards/seasons", undefined);
    const items = body.items as {
      name: string;
      poolPerEpoch: string;
      minUpMinutes: number;
      weights: object;
    }[];
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ name: "genesis", poolPerEpoch: "1000000000", minUpMinutes: 45 });
    expect(Object.keys(items[0]!.weights).sort()).toEqual([...t.server.ctx.rewards.knownProfiles].sort());
  });

  it("lets an admin create a season after the default one, and refuses one that overlaps it", async () => {
    const created = await call("POST", "/v1/admin/rewards/seasons", t.adminKey, season({ name: "second" }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "second", poolPerEpoch: "5000000", minUpMinutes: 30 });
    const overlapping = await call(
      "POST",
      "/v1/admin/rewards/seasons",
      t.adminKey,
      season({ startsAt: inDays(420), endsAt: inDays(440) }),
    );
    expect([overlapping.status, overlapping.body.code]).toEqual([409, "conflict"]);
    expect(overlapping.body.detail).toContain("second");
    const overDefault = await call(
      "POST",
      "/v1/admin/rewards/seasons",
      t.adminKey,
      season({ startsAt: inDays(1), endsAt: inDays(2) }),
    );
    expect([overDefault.status, overDefault.body.code]).toEqual([409, "conflict"]);
  });

  it("refuses a negative pool, a missing weight and an end before the start, with a clear error", async () => {
    const negative = await call(
      "POST",
      "/v1/admin/rewards/seasons",
      t.adminKey,
      season({ poolPerEpoch: "-5" }),
    );
    expect([negative.status, negative.body.code]).toEqual([400, "validation_failed"]);
    const { "sim-a100": _dropped, ...missing } = weights;
    const noWeight = await call(
      "POST",
      "/v1/admin/rewards/seasons",
      t.adminKey,
      season({ weights: missing }),
    );
    expect([noWeight.status, noWeight.body.code]).toEqual([400, "validation_failed"]);
    expect(JSON.stringify(noWeight.body.errors)).toContain("missing: a weight for profile sim-a100");
    const backwards = await call(
      "POST",
      "/v1/admin/rewards/seasons",
      t.adminKey,
      season({ startsAt: inDays(500), endsAt: inDays(499) }),
    );
    expect([backwards.status, backwards.body.code]).toEqual([400, "validation_failed"]);
  });

  it("ends the default season early so another can follow, and keeps suppliers out of season admin", async () => {
    const genesis = (
      (await call("GET", "/v1/rewards/seasons", undefined)).body.items as { id: string }[]
    )[0]!;
    const ended = await call("POST", `/v1/admin/rewards/seasons/${genesis.id}/end`, t.adminKey, {
      at: inDays(30),
    });
    expect([ended.status, ended.body.endsAt]).toEqual([200, inDays(30)]);
    const next = await call(
      "POST",
      "/v1/admin/rewards/seasons",
      t.adminKey,
      season({ startsAt: inDays(30), endsAt: inDays(60) }),
    );
    expect(next.status).toBe(201);
    const past = await call("POST", `/v1/admin/rewards/seasons/${genesis.id}/end`, t.adminKey, {
      at: inDays(-3),
    });
    expect([past.status, past.body.code]).toEqual([409, "conflict"]);
    expect((await call("POST", "/v1/admin/rewards/seasons", supplierKey, season({}))).status).toBe(403);
    expect((await call("POST", "/v1/admin/rewards/seasons", undefined, season({}))).status).toBe(401);
  });

  it("declares and lists maintenance windows for admins only", async () => {
    const body = {
      start: inDays(2),
      end: new Date(Date.parse(inDays(2)) + 20 * 60_000).toISOString(),
      graceMinutes: 30,
      reason: "key rotation",
    };
    const created = await call("POST", "/v1/admin/maintenance-windows", t.adminKey, body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...body, leadMinutes: 10 });
    const listed = await call("GET", "/v1/admin/maintenance-windows", t.adminKey);
    expect((listed.body.items as { id: string }[]).map((w) => w.id)).toContain(created.body.id);
    expect((await call("POST", "/v1/admin/maintenance-windows", supplierKey, body)).status).toBe(403);
    expect((await call("GET", "/v1/admin/maintenance-windows", supplierKey)).status).toBe(403);
    const backwards = await call("POST", "/v1/admin/maintenance-windows", t.adminKey, {
      ...body,
      end: body.start,
    });
    expect([backwards.status, backwards.body.code]).toEqual([400, "validation_failed"]);
    const extra = await call("POST", "/v1/admin/maintenance-windows", t.adminKey, {
      ...body,
      credited: true,
    });
    expect([extra.status, extra.body.code]).toEqual([400, "unknown_field"]);
  });

  it("documents every reward route in the OpenAPI document", async () => {
    const { body } = await call("GET", "/openapi.json", undefined);
    const paths = Object.keys(body.paths as object);
    for (const path of [
      "/v1/rewards/epochs",
      "/v1/rewards/epochs/{epoch}",
      "/v1/rewards/epochs/{epoch}/proofs/{deviceId}",
      "/v1/rewards/earnings",
      "/v1/admin/rewards/seasons",
      "/v1/admin/maintenance-windows",
    ]) {
      expect(paths).toContain(path);
    }
  });
});
