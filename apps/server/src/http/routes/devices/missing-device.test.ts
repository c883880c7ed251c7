import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../../testing/test-server.js";
import { call, cleanupStateDirs, enrollSimulated, userWithKey } from "../../../testing/worker-fixture.js";

/** Every `/v1/devices/{deviceId}` route, with a body its schema accepts (so only the device lookup can refuse). */
const ROUTES: { method: string; url: string; body?: unknown }[] = [
  { method: "GET", url: "/v1/devices/:deviceId" },
  { method: "PATCH", url: "/v1/devices/:deviceId", body: { label: "mine now" } },
  { method: "POST", url: "/v1/devices/:deviceId/revoke" },
  { method: "POST", url: "/v1/devices/:deviceId/rotate-key" },
  { method: "POST", url: "/v1/devices/:deviceId/resolve-conflict", body: { action: "keep" } },
  { method: "PUT", url: "/v1/devices/:deviceId/label-visibility", body: { public: true } },
  { method: "GET", url: "/v1/devices/:deviceId/price" },
  { method: "PUT", url: "/v1/devices/:deviceId/price", body: { minPricePerHour: null } },
];

/** The problem body without what differs per request. */
const comparable = (body: Record<string, unknown>) => {
  const { instance: _instance, requestId: _requestId, ...rest } = body;
  return rest;
};

describeEachDialect("the /v1/devices/{deviceId} routes' one ownership lookup", (database) => {
  let t: TestServer;
  let bob: { userId: string; key: string };
  let alicesDevice: string;
  beforeAll(async () => {
    t = await startTestServer({ database: database() });
    const alice = await userWithKey(t);
    bob = await userWithKey(t);
    alicesDevice = (await enrollSimulated(t, alice.key, "sim-h100")).deviceId;
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  it("covers every /v1/devices/{deviceId} route the server has", () => {
    const served = t.server.routeTable
      .filter((r) => r.method !== "HEAD" && r.url.startsWith("/v1/devices/:deviceId"))
      .map((r) => `${r.method} ${r.url}`);
    expect(new Set(served)).toEqual(new Set(ROUTES.map((r) => `${r.method} ${r.url}`)));
  });

  it("answers a missing device and another owner's device with the same 404 on every route", async () => {
    const bodies: Record<string, unknown>[] = [];
    for (const route of ROUTES) {
      for (const id of ["dev_aaaaaaaaaaaaaaaaaaaaaaaaaa", alicesDevice]) {
        const path = route.url.replace(":deviceId", id);
        const res = await call(t, route.method, path, bob.key, route.body);
        expect(res.status, `${route.method} ${path}`).toBe(404);
        bodies.push(comparable(res.body));
      }
    }
    expect(bodies[0]).toMatchObject({ code: "not_found" });
    for (const body of bodies) expect(body).toEqual(bodies[0]);
  });
});
