import { afterAll, beforeAll, expect, it } from "vitest";
import { OBJECT_SWEEP_DEFAULTS } from "../../apps/server/src/security/rules/object-sweep.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { runScraperScenario, SCRAPER_IN_FLIGHT, type ScraperResult } from "./support/scraper-scenario.js";

describeEachDialect("scenario: a scraper walks the explorer by device id", (database) => {
  let r: ScraperResult;
  beforeAll(async () => {
    r = await runScraperScenario(database(), { devices: 300, readers: 5 });
    console.info(r.timeline.map((e) => `${String(e.atMs).padStart(6)} ms  ${e.what}`).join("\n"));
  }, 120_000);
  afterAll(() => r?.t.stop());

  it("alerts on the scraper's address as soon as it passes the read-sweep threshold, and blocks it", () => {
    expect(r.alert).toBeDefined();
    expect(["object_sweep", "refusal_burst"]).toContain(r.alert!.rule);
    expect(r.alert!.containment).toMatchObject({ kind: "block_ip", ip: "198.51.100.23" });
    // The walk's speed depends on the machine, so the reaction is counted in pages, not seconds: the block came
    // within the requests in flight when the scraper crossed the threshold, and held from then on.
    expect(r.crossedMs).not.toBeNull();
    expect(r.servedAtFirstThrottle).not.toBeNull();
    expect(r.servedAtFirstThrottle!).toBeLessThanOrEqual(
      OBJECT_SWEEP_DEFAULTS.readThreshold + SCRAPER_IN_FLIGHT,
    );
    expect(r.scraperServed - r.servedAtFirstThrottle!).toBeLessThan(SCRAPER_IN_FLIGHT);
  });

  it("throttles the scraper: most of its walk is answered 429", () => {
    expect(r.scraper[429]).toBeGreaterThan(150);
    // Pages served before the block: the read-sweep threshold (120 distinct devices) and the requests in flight.
    expect(r.scraperServed).toBeLessThanOrEqual(120 + 4);
  });

  it("leaves legitimate readers from other addresses unaffected", () => {
    expect(Object.keys(r.readers)).toEqual(["200"]);
    expect(r.readers[200]).toBeGreaterThan(15);
  });

  it("records the alert and its containment in the audit log", async () => {
    const res = await fetch(`${r.t.url}/v1/admin/audit?object=${r.alert!.id}`, {
      headers: { authorization: `Bearer ${r.t.adminKey}` },
    });
    const { items } = (await res.json()) as {
      items: { action: string; details: { containment: { kind: string } } }[];
    };
    expect(items.find((i) => i.action === "security.alert.raise")?.details.containment.kind).toBe("block_ip");
  });

  it("lets the address back in once an admin releases its alerts", async () => {
    const admin = { authorization: `Bearer ${r.t.adminKey}`, "content-type": "application/json" };
    const { items } = (await (
      await fetch(`${r.t.url}/v1/admin/alerts?status=open`, { headers: admin })
    ).json()) as {
      items: { id: string; subject: string }[];
    };
    const mine = items.filter((a) => a.subject === "ip:198.51.100.23");
    const lifted: boolean[] = [];
    for (const alert of mine) {
      const res = await fetch(`${r.t.url}/v1/admin/alerts/${alert.id}/release`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ note: "research crawler, agreed a slower pace" }),
      });
      lifted.push(((await res.json()) as { lifted: boolean }).lifted);
    }
    // The block is lifted with the last alert that held it, not before.
    expect(lifted.at(-1)).toBe(true);
    const after = await fetch(`${r.t.url}/v1/explorer/stats`, {
      headers: { "x-forwarded-for": "198.51.100.23" },
    });
    expect(after.status).toBe(200);
  });
});
