import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertDevice } from "../../apps/server/src/rewards/reward-fixtures.js";
import { earn, stakedAndSlashed } from "../../apps/server/src/stakes/stake-fixtures.js";
import { createTestDatabase } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { userWithKey } from "../../apps/server/src/testing/worker-fixture.js";
import { browserSkipReason, ensureWebBuilt, launchChromium, screenshot } from "./browser-harness.js";

const skip = browserSkipReason();
if (skip) console.warn(`[ignis tests] ${skip}`);

const PER_GPU = 1_000_000n;
const SETTINGS = { perGpu: PER_GPU, slashBps: 1000, unbondSeconds: 7200, pendingSeconds: 0 };
const STEP_MS = 90_000;

/**
 * The supplier page's Stakes panel in a real browser: the rule and balance in credits, staking for a device
 * (with its eligibility in words), unbonding, and a slash with its evidence and an appeal.
 */
describe.skipIf(skip !== undefined)("the stakes panel in a real browser", () => {
  let t: TestServer;
  let closeDatabase: () => Promise<void>;
  let browser: Browser;
  let page: Page;
  let device: string;
  let slashed: { deviceId: string; slashId: string; challengeId: string };

  beforeAll(async () => {
    ensureWebBuilt();
    const database = await createTestDatabase("pglite");
    closeDatabase = () => database.close();
    t = await startTestServer({
      database,
      env: { IGNIS_STAKE_PER_GPU: String(PER_GPU), IGNIS_UNBOND_SECONDS: String(SETTINGS.unbondSeconds) },
    });
    const supplier = await userWithKey(t, ["supplier"]);
    const db = t.server.ctx.db;
    device = await insertDevice(db, supplier.userId, { profile: "sim-a100" });
    const other = await insertDevice(db, supplier.userId, { profile: "sim-a100" });
    slashed = {
      deviceId: other,
      ...(await stakedAndSlashed(db, SETTINGS, {
        ownerId: supplier.userId,
        deviceId: other,
        amount: PER_GPU,
      })),
    };
    await earn(db, supplier.userId, 5n * PER_GPU);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on("dialog", (dialog) => void dialog.accept());
    await page.goto(`${t.url}/signin?next=/supplier`);
    await page.getByText("Use an API key instead").click();
    await page.getByLabel("API key").fill(supplier.key);
    await page.getByRole("button", { name: "Use key" }).click();
    await page.waitForURL(`${t.url}/supplier`);
  }, STEP_MS);

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await closeDatabase?.();
  });

  it(
    "shows the rule and the balance in credits, stakes for a device and unbonds the stake",
    async () => {
      const panel = page.getByTestId("stakes-panel");
      await panel.getByTestId("stake-rule").waitFor();
      expect(await panel.getByTestId("stake-rule").textContent()).toContain("1 credits per GPU");
      expect(await panel.getByTestId("stake-balance").textContent()).toBe("5 credits");

      await panel.getByLabel("Device").selectOption(device);
      await expect
        .poll(() => panel.getByTestId("stake-eligibility").textContent(), { timeout: 20_000 })
        .toContain("not hireable and not earning (its bonded stake is below the rule)");
      await panel.getByLabel("Amount (credits)").fill("1.5");
      await panel.getByRole("button", { name: "Stake" }).click();
      await expect
        .poll(() => panel.getByTestId("stake-balance").textContent(), { timeout: 20_000 })
        .toBe("3.5 credits");
      await expect
        .poll(() => panel.getByTestId("stake-eligibility").textContent(), { timeout: 20_000 })
        .toContain("is hireable and earning");
      const row = panel.locator("tr[data-stake-id]", { hasText: device });
      expect(await row.textContent()).toContain("1.5 credits");
      await screenshot(page, "supplier-stakes");

      await row.getByRole("button", { name: "Unbond" }).click();
      await expect
        .poll(() => row.getByTestId("stake-status").textContent(), { timeout: 20_000 })
        .toContain("unbonding");
    },
    STEP_MS,
  );

  it(
    "shows a slash with its evidence and appeals it",
    async () => {
      const item = page.locator(`li[data-slash-id="${slashed.slashId}"]`);
      await item.waitFor({ timeout: 20_000 });
      const text = await item.textContent();
      expect(text).toContain("0.1 credits");
      expect(text).toContain("wrong_row");
      expect(text).toContain(slashed.challengeId);
      await item.getByLabel("Why the slash is wrong").fill("the card was fine");
      await item.getByRole("button", { name: "Appeal" }).click();
      await expect
        .poll(() => item.getByTestId("slash-appeal").textContent(), { timeout: 20_000 })
        .toContain("Appeal pending");
    },
    STEP_MS,
  );

  it(
    "tells the owner that the device's memory is not proven yet, and when it will be",
    async () => {
      const row = page.locator(`tr[data-device-id="${device}"]`);
      await row.getByTestId("verification-checks-toggle").click();
      await expect
        .poll(() => row.getByTestId("memory-proof").textContent(), { timeout: 20_000 })
        .toContain("Memory: 80 GB claimed, not proven.");
      // The fixture device has no worker connected: it is checked once one connects.
      expect(await row.getByTestId("memory-proof").textContent()).toContain(
        "checked when the worker connects",
      );
    },
    STEP_MS,
  );
});
