import { afterAll, beforeAll, expect, it } from "vitest";
import { type SeededNetwork, seedNetwork } from "../../apps/server/src/explorer/seed-network.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";

const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g;
const HOUR_MS = 3_600_000;

describeEachDialect("public data about a device cannot line owners' devices up in time", (database) => {
  let t: TestServer;
  let seeded: SeededNetwork;
  let shown: string[];

  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: { IGNIS_EPOCH_SECONDS: "3600", IGNIS_SECURITY_CONTAINMENT: "off" },
    });
    const db = t.server.ctx.db;
    seeded = await seedNetwork(db, { users: 2, devicesPerUser: 3, epochSeconds: 3600 });
    shown = seeded.devices.filter((d) => d.status !== "revoked").map((d) => d.id);
    // One owner's devices all group-challenged a moment ago, within the same second, and verified just now.
    const now = Date.now();
    await db
      .insertInto("proof_challenges")
      .values(
        shown.map((deviceId, i) => ({
          id: `${"c".repeat(24)}${String(i).padStart(8, "0")}`,
          device_id: deviceId,
          profile: "sim-a100",
          gpu_count: 1,
          n: 64,
          inner_dim: 64,
          batch: 1,
          reveal_rows: 4,
          expected_ms: 10,
          deadline_ms: 100,
          rtt_ms: 1,
          trigger: "group" as const,
          replica: "r1",
          issued_at: new Date(now - 900 + i),
          decided_at: new Date(now - 800 + i),
          outcome: "pass" as const,
        })),
      )
      .execute();
    await db
      .updateTable("devices")
      .set({ verified_at: new Date(now - 1234) })
      .where("id", "in", shown)
      .execute();
  }, 60_000);
  afterAll(() => t?.stop());

  /** Every public GET route that speaks about devices, with each shown device's id where it names one. */
  function devicePaths(): string[] {
    const seen = new Set<string>();
    const paths: string[] = [];
    for (const r of t.server.routeTable) {
      if (r.method !== "GET" || r.meta?.access !== "public" || !/device/i.test(r.url) || seen.has(r.url))
        continue;
      seen.add(r.url);
      const params = r.url.match(/:[A-Za-z]+/g) ?? [];
      if (params.length === 0) paths.push(r.url);
      else if (params.length === 1 && params[0] === ":deviceId")
        for (const id of shown) paths.push(r.url.replace(":deviceId", id));
    }
    return paths;
  }

  it("crawls the device routes of the explorer", () => {
    const paths = devicePaths();
    expect(paths).toContain("/v1/explorer/devices");
    expect(paths).toContain(`/v1/explorer/devices/${shown[0]}`);
  });

  it("never holds a time finer than the minute in any public payload about a device", async () => {
    const found: string[] = [];
    for (const path of devicePaths()) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status, path).toBe(200);
      for (const match of (await res.text()).matchAll(ISO_TIME)) {
        const ms = Date.parse(match[0]);
        found.push(match[0]);
        expect(ms % 60_000, `${path} holds ${match[0]}`).toBe(0);
      }
    }
    expect(found.length).toBeGreaterThan(0);
  });

  it("publishes proof times to the hour, and only once their hour is over", async () => {
    const hourStart = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    for (const id of shown) {
      const res = await fetch(`${t.url}/v1/explorer/devices/${id}`);
      const view = (await res.json()) as { verifiedAt: string | null; verificationHistory: { at: string }[] };
      const times = [view.verifiedAt, ...view.verificationHistory.map((e) => e.at)].filter((x) => x !== null);
      for (const at of times) {
        expect(Date.parse(at) % HOUR_MS).toBe(0);
        expect(Date.parse(at)).toBeLessThan(hourStart);
      }
    }
  });
});
