import type { AlertView } from "@ignis/protocol";
import type { OpenDatabase } from "../../../apps/server/src/db/database.js";
import { OBJECT_SWEEP_DEFAULTS } from "../../../apps/server/src/security/rules/object-sweep.js";
import { createUserWithKey, insertDevices } from "../../../apps/server/src/security/security-fixtures.js";
import { startTestServer, type TestServer } from "../../../apps/server/src/testing/test-server.js";
import { alertsOf, pool, SCENARIO_ENV, type TimelineEvent } from "./scenario-harness.js";

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
  /** Pages the scraper had been served when it was first refused (429); null if it never was. */
  servedAtFirstThrottle: number | null;
  timeline: TimelineEvent[];
}

/** Requests the scraper keeps in flight. */
export const SCRAPER_IN_FLIGHT = 4;

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
  let servedAtFirstThrottle: number | null = null;
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
  await pool(walk, SCRAPER_IN_FLIGHT, async (id) => {
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
      servedAtFirstThrottle = scraperServed;
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
  return {
    t,
    scraper,
    scraperServed,
    readers,
    alert,
    alertAfterMs,
    crossedMs,
    servedAtFirstThrottle,
    timeline,
  };
}
