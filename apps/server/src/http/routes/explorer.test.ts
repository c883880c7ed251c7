import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { firstEpochOfMonth } from "../../explorer/epoch-window.js";
import { type SeededNetwork, seedNetwork } from "../../explorer/seed-network.js";
import { describeEachDialect } from "../../testing/dialects.js";
import { createTestIssuer } from "../../testing/test-issuer.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";

const EPOCH_SECONDS = 3600;

interface Page {
  items: { id: string; status: string; label: string | null; gpu: { model: string }; vendor: string }[];
  nextCursor: string | null;
}

describeEachDialect("public explorer routes", (database) => {
  let t: TestServer;
  let seeded: SeededNetwork;
  beforeAll(async () => {
    t = await startTestServer({ database: database(), issuer: await createTestIssuer() });
    seeded = await seedNetwork(t.server.ctx.db, { users: 3, devicesPerUser: 4, epochSeconds: EPOCH_SECONDS });
  });
  afterAll(() => t.stop());

  const get = async <T>(path: string) => {
    const res = await fetch(`${t.url}${path}`);
    return { status: res.status, body: (await res.json()) as T };
  };
  const shown = () => seeded.devices.filter((d) => d.status !== "revoked");

  it("counts shown devices, online ones and GPUs by model, leaving revoked devices out", async () => {
    const { status, body } = await get<{
      devicesTotal: number;
      devicesOnline: number;
      gpusByModel: Record<string, number>;
      verifiedShare: number;
      computeHoursThisMonth: number;
      currentEpoch: number;
      lastPublishedRoot: unknown;
      recentEpochs: unknown[];
    }>("/v1/explorer/stats");
    expect(status).toBe(200);
    expect(body.devicesTotal).toBe(shown().length);
    expect(body.devicesOnline).toBe(
      shown().filter((d) => d.status === "online" || d.status === "hired").length,
    );
    expect(Object.keys(body.gpusByModel).sort()).toEqual([...new Set(shown().map((d) => d.model))].sort());
    expect(body.verifiedShare).toBeGreaterThan(0);
    expect(body.verifiedShare).toBeLessThan(1);
    expect(body.currentEpoch).toBe(Math.floor(Date.now() / 1000 / EPOCH_SECONDS));
    expect(body.lastPublishedRoot).toBeNull();
    expect(body.recentEpochs).toHaveLength(48);
  });

  it("reports compute hours as this month's up-minutes over 60", async () => {
    const from = firstEpochOfMonth(Date.now(), EPOCH_SECONDS);
    const { rows } = await sql<{ m: string | number | null }>`
      select sum(up_minutes) as m from uptime where epoch >= ${from}`.execute(t.server.ctx.db);
    const { body } = await get<{ computeHoursThisMonth: number }>("/v1/explorer/stats");
    expect(body.computeHoursThisMonth).toBeCloseTo(Number(rows[0]?.m ?? 0) / 60, 1);
  });

  it("pages through every shown device exactly once with the keyset cursor", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const { status, body }: { status: number; body: Page } = await get<Page>(
        `/v1/explorer/devices?limit=4${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(status).toBe(200);
      expect(body.items.length).toBeLessThanOrEqual(4);
      seen.push(...body.items.map((d) => d.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(
      shown()
        .map((d) => d.id)
        .sort(),
    );
  });

  it("refuses a page size over the cap and a forged cursor with 400", async () => {
    const big = await get<{ code: string }>("/v1/explorer/devices?limit=1000");
    expect(big.status).toBe(400);
    expect(big.body.code).toBe("validation_failed");
    const forged = await get<{ code: string }>("/v1/explorer/devices?cursor=bm90LWEtY3Vyc29y");
    expect(forged.status).toBe(400);
    expect(forged.body.code).toBe("validation_failed");
  });

  it("finds a device by its full id and by a prefix of its random part", async () => {
    const target = shown()[0]!;
    const full = await get<Page>(`/v1/explorer/devices?q=${target.id}`);
    expect(full.body.items.map((d) => d.id)).toEqual([target.id]);
    const prefix = await get<Page>(`/v1/explorer/devices?q=${target.id.slice(4, 12)}`);
    expect(prefix.body.items.map((d) => d.id)).toContain(target.id);
    const hostile = await get<Page>(`/v1/explorer/devices?q=${encodeURIComponent("x' or 1=1 --")}`);
    expect(hostile.status).toBe(200);
    expect(hostile.body.items).toEqual([]);
  });

  it("does not find a revoked device even by its exact id", async () => {
    const revoked = seeded.devices.find((d) => d.status === "revoked")!;
    const { body } = await get<Page>(`/v1/explorer/devices?q=${revoked.id}`);
    expect(body.items).toEqual([]);
  });

  it("filters by status, model and vendor", async () => {
    const online = await get<Page>("/v1/explorer/devices?status=online&limit=100");
    expect(online.body.items.length).toBe(shown().filter((d) => d.status === "online").length);
    expect(online.body.items.every((d) => d.status === "online")).toBe(true);
    const model = await get<Page>(
      `/v1/explorer/devices?model=${encodeURIComponent("NVIDIA RTX 4090")}&limit=100`,
    );
    expect(model.body.items.length).toBe(shown().filter((d) => d.model === "NVIDIA RTX 4090").length);
    const amd = await get<Page>("/v1/explorer/devices?vendor=amd&limit=100");
    expect(amd.body.items.every((d) => d.vendor === "amd")).toBe(true);
    expect(amd.body.items.length).toBe(shown().filter((d) => d.vendor === "amd").length);
  });

  it("shows a label only when its owner made it public", async () => {
    const { body } = await get<Page>("/v1/explorer/devices?limit=100");
    for (const item of body.items) {
      const device = seeded.devices.find((d) => d.id === item.id)!;
      expect(item.label).toBe(device.labelPublic ? device.label : null);
    }
  });

  it("serves a device page with 30 days of uptime, recent epochs and shares", async () => {
    const target = shown().find((d) => d.status === "online")!;
    const { status, body } = await get<{
      id: string;
      uptime24h: number;
      uptime7d: number;
      uptime30d: number;
      uptimeDaily: { day: string; upMinutes: number }[];
      uptimeEpochs: { epoch: number; upMinutes: number }[];
      verificationHistory: unknown[];
    }>(`/v1/explorer/devices/${target.id}`);
    expect(status).toBe(200);
    expect(body.id).toBe(target.id);
    expect(body.uptimeDaily).toHaveLength(30);
    expect(body.uptimeDaily.at(-1)!.day).toBe(new Date().toISOString().slice(0, 10));
    expect(body.uptimeEpochs.length).toBe(48);
    expect(body.uptime24h).toBeGreaterThan(0.9);
    expect(body.uptime30d).toBeLessThan(body.uptime24h);
    expect(Array.isArray(body.verificationHistory)).toBe(true);
  });

  it("lists decided proof-of-GPU checks, newest first, with outcome, code and time only", async () => {
    const quarantined = shown().find((d) => d.status === "quarantined")!;
    const { body } = await get<{ verificationHistory: Record<string, unknown>[] }>(
      `/v1/explorer/devices/${quarantined.id}`,
    );
    expect(body.verificationHistory.map((v) => v.result)).toEqual(["pass", "fail", "fail"]);
    expect(body.verificationHistory.map((v) => [v.outcome, v.code])).toEqual([
      ["pass", null],
      ["fail", "freivalds"],
      ["timeout", "freivalds"],
    ]);
    for (const v of body.verificationHistory)
      expect(Object.keys(v).sort()).toEqual(["at", "code", "outcome", "result"]);
    const times = body.verificationHistory.map((v) => Date.parse(v.at as string));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const online = shown().find((d) => d.status === "online")!;
    const pending = await get<{ verificationHistory: unknown[] }>(`/v1/explorer/devices/${online.id}`);
    expect(pending.body.verificationHistory).toHaveLength(2);
  });

  it("answers a revoked device exactly like a device that never existed", async () => {
    const revoked = seeded.devices.find((d) => d.status === "revoked")!;
    const hidden = await fetch(`${t.url}/v1/explorer/devices/${revoked.id}`);
    const missing = await fetch(`${t.url}/v1/explorer/devices/dev_${"a".repeat(26)}`);
    const malformed = await fetch(`${t.url}/v1/explorer/devices/not-an-id`);
    const strip = async (r: Response) => {
      const { requestId: _r, instance: _i, ...rest } = (await r.json()) as Record<string, unknown>;
      return { status: r.status, type: r.headers.get("content-type"), rest };
    };
    const [h, m, x] = await Promise.all([strip(hidden), strip(missing), strip(malformed)]);
    expect(h.status).toBe(404);
    expect(m).toEqual(h);
    expect(x).toEqual(h);
  });
});
