import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { DeviceView, ExplorerMap, ExplorerStats, PublicDeviceDetail } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readDeviceKey } from "../../apps/cli/src/worker/worker-state.js";
import { verifyAuditChain } from "../../apps/server/src/security/audit-log.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { openDeviceSession, type RawWorkerSocket } from "../../apps/server/src/testing/raw-worker-socket.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  enrollSimulated,
  userWithKey,
} from "../../apps/server/src/testing/worker-fixture.js";

// Session addresses come from the GeoIP package's own ranges (first IPv4 range of each country), reaching the
// server through a proxy it trusts, as a real deployment behind a load balancer would see them.
const dbip = dirname(createRequire(import.meta.url).resolve("@ip-location-db/dbip-country/package.json"));
const ipv4 = readFileSync(join(dbip, "dbip-country-ipv4-num.csv"), "latin1").split("\n");
function addressIn(country: string): string {
  const row = ipv4.find((l) => l.trim().endsWith(`,${country}`) && Number(l.split(",")[0]) > 0x0100_0000);
  const n = Number(row!.split(",")[0]) + 1;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

describeEachDialect("device locations and the network map", (database) => {
  let t: TestServer;
  let owner: { key: string; userId: string };
  let stranger: { key: string };
  const sockets: RawWorkerSocket[] = [];
  const devices: Record<"de" | "jp" | "local", string> = { de: "", jp: "", local: "" };

  /** Enrolls a simulated device and opens its session from `address` (null: straight from loopback). */
  const online = async (address: string | null) => {
    const { deviceId, stateDir } = await enrollSimulated(t, owner.key);
    const session = await openDeviceSession(t.url, deviceId, readDeviceKey(stateDir), {
      ...(address ? { headers: { "x-forwarded-for": address } } : {}),
    });
    expect(session.answer.type).toBe("session.hello");
    sockets.push(session.raw);
    return deviceId;
  };
  const publicPage = async (id: string) =>
    (await call<PublicDeviceDetail>(t, "GET", `/v1/explorer/devices/${id}`)).body;

  beforeAll(async () => {
    t = await startTestServer({ database: database(), env: { IGNIS_TRUST_PROXY: "127.0.0.1" } });
    owner = await userWithKey(t, ["supplier"]);
    stranger = await userWithKey(t, ["supplier"]);
    devices.de = await online(addressIn("DE"));
    devices.jp = await online(addressIn("JP"));
    devices.local = await online(null);
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.ws.close();
    await t?.stop();
    cleanupStateDirs();
  });

  it("locates each device by its session's public address, and never finer than a country", async () => {
    const de = await waitFor("the DE device located", async () => {
      const page = await publicPage(devices.de);
      return page.location.source === "geoip" ? page : undefined;
    });
    expect(de.location).toEqual({ country: "DE", region: "europe", source: "geoip" });
    expect((await publicPage(devices.jp)).location).toEqual({
      country: "JP",
      region: "asia-pacific",
      source: "geoip",
    });
    // A loopback (or private) address does not locate: the region is the continent the worker reported.
    expect((await publicPage(devices.local)).location).toMatchObject({ country: null, source: "unknown" });
    const text = JSON.stringify(await publicPage(devices.de));
    expect(text).not.toContain(addressIn("DE"));
    expect(Object.keys(de.location).sort()).toEqual(["country", "region", "source"]);
  });

  it("lets the owner declare a country, shown only where the address does not locate the device", async () => {
    const declared = await call<DeviceView>(t, "PATCH", `/v1/devices/${devices.local}`, owner.key, {
      country: "br",
    });
    expect(declared.status).toBe(200);
    expect(declared.body.declaredCountry).toBe("BR");
    expect((await publicPage(devices.local)).location).toEqual({
      country: "BR",
      region: "south-america",
      source: "declared",
    });
    // The address wins: a declaration cannot move a located device.
    const moved = await call<DeviceView>(t, "PATCH", `/v1/devices/${devices.de}`, owner.key, {
      country: "US",
    });
    expect(moved.body).toMatchObject({ declaredCountry: "US", location: { country: "DE", source: "geoip" } });
    expect((await publicPage(devices.de)).location.country).toBe("DE");
    // The label is untouched by a country-only change, and withdrawing the declaration works.
    const withdrawn = await call<DeviceView>(t, "PATCH", `/v1/devices/${devices.de}`, owner.key, {
      country: null,
    });
    expect(withdrawn.body.declaredCountry).toBeNull();
  });

  it("refuses a bad country with invalid_country, changes nothing and records the refusal", async () => {
    for (const country of ["XX", "Germany", "", "d e", "ÄÖ"]) {
      const res = await call<{ code: string }>(t, "PATCH", `/v1/devices/${devices.local}`, owner.key, {
        country,
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("invalid_country");
    }
    const empty = await call<{ code: string }>(t, "PATCH", `/v1/devices/${devices.local}`, owner.key, {});
    expect(empty.status).toBe(400);
    // Someone else's device: the same 404 as a device that does not exist, nothing written.
    const foreign = await call<{ code: string }>(t, "PATCH", `/v1/devices/${devices.local}`, stranger.key, {
      country: "FR",
    });
    expect(foreign.status).toBe(404);
    expect((await publicPage(devices.local)).location.country).toBe("BR");
    const refused = await database()
      .db.selectFrom("audit_log")
      .select(["outcome", "object_id"])
      .where("action", "=", "device.update")
      .where("outcome", "like", "refused:%")
      .execute();
    // The five bad countries and the empty body were refused by the owner's own key: each one is on record.
    expect(refused.filter((r) => r.outcome === "refused:invalid_country")).toHaveLength(5);
    expect(refused.length).toBeGreaterThanOrEqual(6);
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });

  it("takes no location from X-Forwarded-For unless the peer is a proxy the server trusts", async () => {
    const untrusting = await startTestServer({ database: database() });
    try {
      // The same database as the first server: its supplier's key works here too.
      const key = owner.key;
      const { deviceId, stateDir } = await enrollSimulated(untrusting, key);
      const session = await openDeviceSession(untrusting.url, deviceId, readDeviceKey(stateDir), {
        headers: { "x-forwarded-for": addressIn("DE") },
      });
      sockets.push(session.raw);
      await waitFor("the session's open written", async () => {
        const row = await database()
          .db.selectFrom("devices")
          .select(["session_address", "geo_country"])
          .where("id", "=", deviceId)
          .executeTakeFirst();
        // The address and the country are written by one statement: once the address is there, so is the country.
        return row?.session_address ? row : undefined;
      }).then((row) => expect(row).toEqual({ session_address: "127.0.0.1", geo_country: null }));
    } finally {
      await untrusting.stop();
    }
  });

  it("maps the network by country, with totals equal to the stats and the GeoIP attribution", async () => {
    const online = (m: ExplorerMap) => m.regions.reduce((a, r) => a + r.devicesOnline, 0);
    const [map, stats] = await waitFor(
      "the map and stats showing the located devices, computed alike",
      async () => {
        const m = (await call<ExplorerMap>(t, "GET", "/v1/explorer/map")).body;
        const s = (await call<ExplorerStats>(t, "GET", "/v1/explorer/stats")).body;
        const placed = new Set(m.regions.map((r) => r.country));
        const located = placed.has("DE") && placed.has("JP") && placed.has("BR");
        return located && s.devicesOnline >= 3 && online(m) === s.devicesOnline ? [m, s] : undefined;
      },
    );
    const sum = (f: (r: ExplorerMap["regions"][number]) => number) =>
      map.regions.reduce((a, r) => a + f(r), 0);
    expect(sum((r) => r.devicesOnline)).toBe(stats.devicesOnline);
    expect(sum((r) => Object.values(r.gpus).reduce((a, b) => a + b, 0))).toBe(stats.gpusTotal);
    const byRegion: Record<string, number> = {};
    for (const r of map.regions) {
      byRegion[r.region] = (byRegion[r.region] ?? 0) + Object.values(r.gpus).reduce((x, y) => x + y, 0);
    }
    expect(byRegion).toEqual(stats.gpusByRegion);
    expect(map.regions.find((r) => r.country === "DE")).toMatchObject({ region: "europe", devicesOnline: 1 });
    expect(map.attribution).toMatchObject({ text: "IP Geolocation by DB-IP", url: "https://db-ip.com" });
    for (const r of map.regions)
      expect(Object.keys(r).sort()).toEqual(["country", "devicesOnline", "gpus", "region"]);
  });
});
