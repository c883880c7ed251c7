import type { AlertView } from "@ignis/protocol";
import type { OpenDatabase } from "../../../apps/server/src/db/database.js";
import { OBJECT_SWEEP_DEFAULTS } from "../../../apps/server/src/security/rules/object-sweep.js";
import {
  createUserWithKey,
  type FixtureUser,
  insertDevices,
} from "../../../apps/server/src/security/security-fixtures.js";
import { startTestServer, type TestServer } from "../../../apps/server/src/testing/test-server.js";

/** One event of a scenario's timeline, in milliseconds since the attack started. */
export interface TimelineEvent {
  atMs: number;
  what: string;
}

/** Production-like settings: budgets and containment on, and a proxy in front that names the client IP. */
export const SCENARIO_ENV = {
  IGNIS_RATE_LIMITS: "on",
  IGNIS_SECURITY_CONTAINMENT: "on",
  IGNIS_TRUST_PROXY: "127.0.0.1",
};

/** Runs `fn` over items with at most `concurrency` in flight. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

async function alertsOf(t: TestServer): Promise<AlertView[]> {
  const res = await fetch(`${t.url}/v1/admin/alerts?limit=100`, {
    headers: { authorization: `Bearer ${t.adminKey}` },
  });
  return ((await res.json()) as { items: AlertView[] }).items;
}

/** What the stolen-key scenario observed. */
export interface StolenKeyResult {
  t: TestServer;
  supplier: FixtureUser;
  deviceIds: string[];
  originalLabels: Map<string, string>;
  statuses: Record<string, number>;
  /** Relabel requests the server accepted (200) before containment. */
  accepted: number;
  firstRefusalMs: number | null;
  alert: AlertView | undefined;
  alertAfterMs: number | null;
  timeline: TimelineEvent[];
}

/**
 * Scenario 1: a supplier's API key is stolen and the attacker relabels all of the supplier's devices as fast as
 * it can (PATCH /v1/devices/{id}), from its own address, with `concurrency` requests in flight.
 */
export async function runStolenKeyScenario(
  database: OpenDatabase,
  options: { devices?: number; concurrency?: number } = {},
): Promise<StolenKeyResult> {
  const t = await startTestServer({ database, env: SCENARIO_ENV });
  const supplier = await createUserWithKey(database.db, ["supplier"]);
  const deviceIds = await insertDevices(database.db, supplier.userId, options.devices ?? 500, {
    labelPrefix: "rack",
  });
  const rows = await database.db
    .selectFrom("devices")
    .select(["id", "label"])
    .where("owner_id", "=", supplier.userId)
    .execute();
  const originalLabels = new Map(rows.map((r) => [r.id, r.label ?? ""]));
  const timeline: TimelineEvent[] = [];
  const statuses: Record<string, number> = {};
  let accepted = 0;
  let firstRefusalMs: number | null = null;
  const start = performance.now();
  const startWall = Date.now();
  const ms = () => Math.round(performance.now() - start);
  timeline.push({
    atMs: 0,
    what: `attacker starts relabelling ${deviceIds.length} devices with the stolen key`,
  });
  await pool(deviceIds, options.concurrency ?? 8, async (id) => {
    const res = await fetch(`${t.url}/v1/devices/${id}`, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${supplier.key}`,
        "content-type": "application/json",
        "x-forwarded-for": "203.0.113.66",
      },
      body: JSON.stringify({ label: "pwned" }),
    });
    const body = (await res.json()) as { code?: string };
    const key = body.code ? `${res.status} ${body.code}` : String(res.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
    if (res.status === 200) accepted += 1;
    else if (firstRefusalMs === null) {
      firstRefusalMs = ms();
      timeline.push({ atMs: firstRefusalMs, what: `first refusal: ${key} (after ${accepted} accepted)` });
    }
  });
  timeline.push({ atMs: ms(), what: `attack over: ${JSON.stringify(statuses)}` });
  await t.server.ctx.security.settled();
  const alert = (await alertsOf(t))
    .filter((a) => a.credentialId === supplier.keyId)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
  const alertAfterMs = alert ? new Date(alert.createdAt).getTime() - startWall : null;
  if (alert)
    timeline.push({
      atMs: alertAfterMs!,
      what: `alert ${alert.rule} (${alert.severity}): ${alert.containment.kind}`,
    });
  timeline.sort((a, b) => a.atMs - b.atMs);
  return {
    t,
    supplier,
    deviceIds,
    originalLabels,
    statuses,
    accepted,
    firstRefusalMs,
    alert,
    alertAfterMs,
    timeline,
  };
}

/** What the scraper scenario observed. */
export interface ScraperResult {
  t: TestServer;
  scraper: Record<string, number>;
  scraperServed: number;
  readers: Record<string, number>;
  alert: AlertView | undefined;
  alertAfterMs: number | null;
  /** When the scraper was served more distinct devices than the read-sweep threshold allows. */
  crossedMs: number | null;
  timeline: TimelineEvent[];
}

/**
 * Scenario 2: a scraper walks the explorer by device id (GET /v1/explorer/devices/{id}), real ids mixed with
 * guessed ones, while legitimate readers from other addresses browse the explorer at a human pace.
 */
export async function runScraperScenario(
  database: OpenDatabase,
  options: { devices?: number; readers?: number; guess?: boolean } = {},
): Promise<ScraperResult> {
  const t = await startTestServer({ database, env: SCENARIO_ENV });
  const supplier = await createUserWithKey(database.db, ["supplier"]);
  const ids = await insertDevices(database.db, supplier.userId, options.devices ?? 300, { status: "online" });
  // A scraper harvests real ids from the public list, or guesses ids (then most answers are 404).
  const walk = options.guess ? ids.map((id) => `${id.slice(0, -4)}zzzz`) : ids;
  const scraper: Record<string, number> = {};
  const readers: Record<string, number> = {};
  const timeline: TimelineEvent[] = [];
  let scraperServed = 0;
  let firstThrottleMs: number | null = null;
  let crossedMs: number | null = null;
  const start = performance.now();
  const startWall = Date.now();
  const ms = () => Math.round(performance.now() - start);
  const get = async (path: string, ip: string) => {
    const res = await fetch(`${t.url}${path}`, { headers: { "x-forwarded-for": ip } });
    await res.arrayBuffer();
    return res.status;
  };
  timeline.push({
    atMs: 0,
    what: `scraper starts walking ${walk.length} device ids; ${options.readers ?? 5} readers browse`,
  });
  let scraping = true;
  const reading = Array.from({ length: options.readers ?? 5 }, async (_, r) => {
    const ip = `192.0.2.${10 + r}`;
    for (let i = 0; scraping || i < 3; i += 1) {
      for (const path of [
        "/v1/explorer/stats",
        "/v1/explorer/devices?limit=20",
        `/v1/explorer/devices/${ids[(r * 7 + i) % ids.length]}`,
      ]) {
        const status = await get(path, ip);
        readers[status] = (readers[status] ?? 0) + 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });
  await pool(walk, 4, async (id) => {
    const status = await get(`/v1/explorer/devices/${id}`, "198.51.100.23");
    scraper[status] = (scraper[status] ?? 0) + 1;
    if (status === 200) scraperServed += 1;
    if (scraperServed > OBJECT_SWEEP_DEFAULTS.readThreshold && crossedMs === null) {
      crossedMs = ms();
      timeline.push({
        atMs: crossedMs,
        what: `scraper served page ${scraperServed}: past the read-sweep threshold`,
      });
    }
    if (status === 429 && firstThrottleMs === null) {
      firstThrottleMs = ms();
      timeline.push({
        atMs: firstThrottleMs,
        what: `scraper throttled (429) after ${scraperServed} pages served`,
      });
    }
  });
  scraping = false;
  await Promise.all(reading);
  timeline.push({
    atMs: ms(),
    what: `walk over: scraper ${JSON.stringify(scraper)}; readers ${JSON.stringify(readers)}`,
  });
  await t.server.ctx.security.settled();
  const alert = (await alertsOf(t))
    .filter((a) => a.subject === "ip:198.51.100.23")
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
  const alertAfterMs = alert ? new Date(alert.createdAt).getTime() - startWall : null;
  if (alert)
    timeline.push({
      atMs: alertAfterMs!,
      what: `alert ${alert.rule} (${alert.severity}): ${alert.containment.kind}`,
    });
  timeline.sort((a, b) => a.atMs - b.atMs);
  return { t, scraper, scraperServed, readers, alert, alertAfterMs, crossedMs, timeline };
}
