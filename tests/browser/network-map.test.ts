import type { ExplorerMap } from "@ignis/protocol";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedNetwork } from "../../apps/server/src/explorer/seed-network.js";
import { createTestDatabase } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { browserSkipReason, ensureWebBuilt, launchChromium, screenshot } from "./browser-harness.js";

const skip = browserSkipReason();

// The explorer's world map in a real browser: shapes from world-atlas projected with d3-geo, each country with
// GPUs shaded and titled, a table that says the same in text, and the GeoIP attribution with its link.
describe.skipIf(skip !== undefined)("the network map in a real browser", () => {
  let t: TestServer;
  let closeDatabase: () => Promise<void>;
  let browser: Browser;

  beforeAll(async () => {
    ensureWebBuilt();
    const database = await createTestDatabase("pglite");
    closeDatabase = () => database.close();
    t = await startTestServer({ database });
    await seedNetwork(t.server.ctx.db, {
      users: 3,
      devicesPerUser: 5,
      epochSeconds: t.server.ctx.config.epochSeconds,
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await closeDatabase?.();
  });

  it("shades every country with GPUs, lists them in a table and credits the data", async () => {
    const map = (await (await fetch(`${t.url}/v1/explorer/map`)).json()) as ExplorerMap;
    const located = map.regions.filter((r) => r.country !== null).map((r) => r.country!);
    expect(located.length).toBeGreaterThan(3);

    for (const viewport of [
      { width: 1280, height: 900, name: "explorer-map" },
      { width: 390, height: 844, name: "phone-explorer-map" },
    ]) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`${t.url}/`);
      await page.locator('[data-testid="map-svg"] path').first().waitFor({ timeout: 60_000 });
      const shaded = await page.$$eval('[data-testid="map-svg"] path[data-country]', (paths) =>
        paths.map((p) => ({ country: p.getAttribute("data-country"), title: p.textContent ?? "" })),
      );
      // Every located country the API names has its shape on the map (tiny islands aside, all seeded ones do).
      expect(new Set(shaded.map((s) => s.country))).toEqual(new Set(located));
      expect(shaded.every((s) => /GPUs/.test(s.title))).toBe(true);
      const rows = await page.locator('[data-testid="map-table"] tbody tr').count();
      expect(rows).toBe(map.regions.length);
      const link = page.locator('[data-testid="network-map"] a[href="https://db-ip.com"]');
      expect(await link.getAttribute("rel")).toContain("noopener");
      // Nothing overflows sideways at phone width.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(page, viewport.name);
      expect(errors).toEqual([]);
      await context.close();
    }
  }, 180_000);
});
