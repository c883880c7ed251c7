import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { enrollDevice } from "../../apps/cli/src/worker/enroll.js";
import { startWorker, type WorkerHandle } from "../../apps/cli/src/worker/worker-agent.js";
import { seedNetwork } from "../../apps/server/src/explorer/seed-network.js";
import { createTestDatabase } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { browserSkipReason, ensureWebBuilt, launchChromium, screenshot } from "./browser-harness.js";

const skip = browserSkipReason();
if (skip) console.warn(`[ignis tests] ${skip}`);

const EMAIL = "supplier@example.org";
const PASSWORD = "correct horse battery staple";
const XSS = "<img src=x onerror=alert(1)>";
const STEP_MS = 90_000;

describe.skipIf(skip !== undefined)("the web app in a real browser", () => {
  let t: TestServer;
  let closeDatabase: () => Promise<void>;
  let browser: Browser;
  let context: BrowserContext;
  let supplier: Page;
  let explorer: Page;
  let inviteUrl: string;
  let worker: WorkerHandle | undefined;
  let deviceId: string;
  const stateDir = mkdtempSync(join(tmpdir(), "ignis-browser-worker-"));
  const dialogs: string[] = [];
  /** Records (and dismisses) any alert, confirm or prompt a page opens: a rendered payload would fire one. */
  const watchDialogs = (page: Page) => {
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  };

  beforeAll(async () => {
    ensureWebBuilt();
    const database = await createTestDatabase("pglite");
    closeDatabase = () => database.close();
    t = await startTestServer({ database, env: { IGNIS_HEARTBEAT_SECONDS: "1" } });
    // Other owners' devices, so the explorer has something to show around ours.
    await seedNetwork(t.server.ctx.db, {
      users: 2,
      devicesPerUser: 4,
      epochSeconds: t.server.ctx.config.epochSeconds,
    });
    const created = await fetch(`${t.url}/v1/admin/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email: EMAIL, roles: ["supplier", "customer"] }),
    });
    expect(created.status).toBe(201);
    inviteUrl = ((await created.json()) as { inviteUrl: string }).inviteUrl;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    context.on("page", watchDialogs);
    supplier = await context.newPage();
    explorer = await context.newPage();
  }, STEP_MS);

  // The steps build on each other: after a failure, the rest would only time out.
  let failed = false;
  beforeEach((ctx) => {
    if (failed) ctx.skip();
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail") failed = true;
  });

  afterAll(async () => {
    await worker?.stop();
    await browser?.close();
    await t?.stop();
    await closeDatabase?.();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it(
    "sets a password on the invite page, then signs in through the embedded provider",
    async () => {
      await supplier.goto(inviteUrl);
      await supplier.fill("#password", PASSWORD);
      await supplier.fill("#confirmation", PASSWORD);
      await supplier.click("button[type=submit]");
      await supplier.getByRole("heading", { name: "Your password is set" }).waitFor();

      await supplier.goto(`${t.url}/signin?next=/supplier`);
      await screenshot(supplier, "sign-in", false);
      await supplier.click("[data-testid=sign-in]");
      await supplier.waitForURL(/\/interaction\//);
      await supplier.fill("#email", EMAIL);
      await supplier.fill("#password", PASSWORD);
      await supplier.click("button[type=submit]");
      await supplier.waitForURL(`${t.url}/supplier`);
      await expect.poll(() => supplier.textContent("[data-testid=signed-in-as]")).toBe(EMAIL);
      // The API credential lives in this tab's sessionStorage and travels as a Bearer header, never as a
      // cookie: the browser's cookies (the identity provider's own session) do not authenticate an API call.
      const stored = await supplier.evaluate(() => sessionStorage.getItem("ignis.session") ?? "");
      expect(stored).toContain("accessToken");
      // offline_access: the tab renews its 15-minute access token instead of signing the user out.
      expect(stored).toContain("refreshToken");
      for (const cookie of await context.cookies(t.url)) expect(stored).not.toContain(cookie.value);
      expect((await supplier.request.get(`${t.url}/v1/me`)).status()).toBe(401);

      // An access token about to expire is renewed with the refresh token before the next call.
      const tokenOf = (json: string) =>
        (JSON.parse(json) as { credential: { tokens: { accessToken: string } } }).credential.tokens
          .accessToken;
      await supplier.evaluate(() => {
        const session = JSON.parse(sessionStorage.getItem("ignis.session")!);
        session.credential.tokens.expiresAt = Date.now();
        sessionStorage.setItem("ignis.session", JSON.stringify(session));
      });
      await supplier.reload();
      await supplier.waitForSelector("[data-testid=my-devices], .state-empty");
      const renewed = await supplier.evaluate(() => sessionStorage.getItem("ignis.session") ?? "");
      expect(tokenOf(renewed)).not.toBe(tokenOf(stored));
      expect(await supplier.textContent("[data-testid=signed-in-as]")).toBe(EMAIL);
    },
    STEP_MS,
  );

  it(
    "creates an enrollment code in the UI and shows the exact enroll command",
    async () => {
      await supplier.click("[data-testid=create-enrollment-code]");
      const code = (await supplier.textContent("[data-testid=enrollment-code]"))!.trim();
      expect(code.length).toBeGreaterThan(7);
      expect(await supplier.textContent("[data-testid=enroll-command]")).toBe(
        `ignis worker enroll --server ${t.url} --code ${code} --profile sim-a100`,
      );
      await screenshot(supplier, "supplier-enroll", false);

      await explorer.goto(`${t.url}/devices`);
      await explorer.waitForSelector("[data-testid=device-table]");
      await explorer.evaluate(() => {
        (window as unknown as { notReloaded: boolean }).notReloaded = true;
      });

      const enrolled = await enrollDevice({ server: t.url, code, stateDir, profile: "sim-a100" });
      deviceId = enrolled.deviceId;
      worker = startWorker({ stateDir });
      await worker.connected;
    },
    STEP_MS,
  );

  it(
    "shows the new device online on the explorer without a reload",
    async () => {
      const row = explorer.locator(`tr[data-device-id="${deviceId}"]`);
      await row.waitFor({ timeout: 30_000 });
      await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain("online");
      expect(
        await explorer.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      ).toBe(true);
      await screenshot(explorer, "explorer-devices");
    },
    STEP_MS,
  );

  it(
    "shows the owner the device's proof-of-GPU checks, with their outcome, in its row",
    async () => {
      const row = supplier.locator(`tr[data-device-id="${deviceId}"]`);
      await row.waitFor({ timeout: 30_000 });
      await row.locator("[data-testid=verification-checks-toggle]").click();
      await expect
        .poll(
          () =>
            row
              .locator("[data-testid=verification-checks]")
              .textContent()
              .catch(() => ""),
          {
            timeout: 40_000,
          },
        )
        .toContain("pass");
    },
    STEP_MS,
  );

  it(
    "searches the explorer by a prefix of the device id",
    async () => {
      const prefix = deviceId.slice(0, 10);
      await explorer.fill("input[name=q]", prefix);
      await explorer.waitForURL(new RegExp(`q=${prefix}`));
      await expect
        .poll(async () =>
          explorer
            .locator("tr[data-device-id]")
            .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-device-id"))),
        )
        .toContain(deviceId);
      const ids = await explorer
        .locator("tr[data-device-id]")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-device-id")!));
      expect(ids.every((id) => id.startsWith(prefix))).toBe(true);
      await explorer.fill("input[name=q]", "zzzzzz");
      await explorer.getByText("No device matches these filters.").waitFor();
    },
    STEP_MS,
  );

  it(
    "renders a hostile label as text, on the supplier page and the public device page, and no dialog fires",
    async () => {
      const row = supplier.locator(`tr[data-device-id="${deviceId}"]`);
      await row.waitFor();
      await row.getByRole("button", { name: "Rename" }).click();
      await row.getByLabel("Label").fill(XSS);
      await row.getByRole("button", { name: "Save" }).click();
      await expect.poll(() => row.locator("[data-testid=my-device-label]").textContent()).toBe(XSS);
      expect(await row.locator("img").count()).toBe(0);
      await screenshot(supplier, "supplier-devices");

      // The owner makes the label public, so the explorer shows it too.
      await row.getByLabel("show label on the explorer").click();
      await expect.poll(() => row.getByLabel("show label on the explorer").isChecked()).toBe(true);
      await explorer.goto(`${t.url}/devices/${deviceId}`);
      await expect
        .poll(() => explorer.textContent("[data-testid=device-label]"), { timeout: 20_000 })
        .toBe(XSS);
      expect(await explorer.locator("img[src=x]").count()).toBe(0);
      expect(dialogs).toEqual([]);
      await expect.poll(() => explorer.textContent("[data-testid=device-status]")).toContain("online");
      // A simulated device's CPU prover answers the memory phase, so its claimed memory ends up proven.
      await expect
        .poll(() => explorer.textContent("[data-testid=device-memory]"), { timeout: 30_000 })
        .toContain("GB claimed, proven");
      await screenshot(explorer, "explorer-device");
    },
    STEP_MS,
  );

  it(
    "shows the network overview, the epochs and the customer page",
    async () => {
      const shown = (await (await fetch(`${t.url}/v1/explorer/devices?limit=100`)).json()) as {
        items: unknown[];
      };
      await explorer.goto(`${t.url}/`);
      // The stats may be a few seconds old when the page opens; polling brings in the new device without a reload.
      await expect
        .poll(async () => Number(await explorer.textContent("[data-testid=devices-total]")), {
          timeout: 20_000,
        })
        .toBe(shown.items.length);
      expect(Number(await explorer.textContent("[data-testid=devices-online]"))).toBeGreaterThan(0);
      await explorer.waitForSelector(".chart canvas");
      await screenshot(explorer, "explorer-overview");
      await explorer.goto(`${t.url}/epochs`);
      await explorer.getByRole("heading", { name: "Reward epochs" }).waitFor();
      await explorer.waitForSelector("[data-testid=epochs-table], .state-empty");
      await screenshot(explorer, "explorer-epochs");
      await supplier.goto(`${t.url}/customer`);
      await supplier.getByRole("heading", { name: "Rent a cluster" }).waitFor();
      await supplier.waitForSelector("[data-testid=clusters], .state-empty");
      // Job arguments are a list: one with a space stays one argument.
      await supplier.getByRole("button", { name: "Add argument" }).click();
      await supplier.getByRole("button", { name: "Add argument" }).click();
      await supplier.getByRole("textbox", { name: "Argument 1", exact: true }).fill("-c");
      await supplier.getByRole("textbox", { name: "Argument 2", exact: true }).fill("echo hello world");
      expect(await supplier.getByRole("textbox", { name: "Argument 2", exact: true }).inputValue()).toBe(
        "echo hello world",
      );
      await screenshot(supplier, "customer");
      await supplier.getByRole("button", { name: "Remove argument 2" }).click();
      expect(await supplier.getByRole("textbox", { name: "Argument 2", exact: true }).count()).toBe(0);
      expect(dialogs).toEqual([]);
    },
    STEP_MS,
  );

  it(
    "works at phone width",
    async () => {
      const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
      watchDialogs(phone);
      await phone.goto(`${t.url}/devices`);
      await phone.locator(`tr[data-device-id="${deviceId}"]`).waitFor();
      const overflow = () => phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(await overflow()).toBeLessThanOrEqual(0);
      await screenshot(phone, "phone-devices", false);
      // The other main pages: nothing wider than the phone either.
      for (const [path, heading] of [
        ["/", "Network overview"],
        ["/epochs", "Reward epochs"],
        [`/devices/${deviceId}`, undefined],
        ["/customer", undefined],
      ] as const) {
        await phone.goto(`${t.url}${path}`);
        if (heading) await phone.getByRole("heading", { name: heading }).first().waitFor();
        await phone.waitForLoadState("networkidle");
        expect(await overflow(), `${path} at 390 px`).toBeLessThanOrEqual(0);
        await screenshot(phone, `phone${path.replace(/\//g, "-").replace(/-$/, "-home")}`, false);
      }
      await phone.close();
    },
    STEP_MS,
  );

  it(
    "lets an admin use the console with an API key",
    async () => {
      const admin = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      watchDialogs(admin);
      await admin.goto(`${t.url}/signin?next=/admin`);
      await admin.getByText("Use an API key instead").click();
      await admin.fill("input[type=password]", t.adminKey);
      await admin.getByRole("button", { name: "Use key" }).click();
      await admin.waitForURL(`${t.url}/admin`);
      await admin.getByText(EMAIL).waitFor();
      await screenshot(admin, "admin-users");
      // Issue a key through the form; it shows once, then lists with its revoke button.
      await admin.getByRole("link", { name: "API keys" }).click();
      await admin.getByLabel("Name").fill("console-test");
      await admin.getByRole("button", { name: "Issue key" }).click();
      await admin.getByText("copy it now, it is not shown again").waitFor();
      const row = admin.getByRole("row").filter({ hasText: "console-test" });
      await row.getByRole("button", { name: "Revoke" }).waitFor();
      // The audit log lists that write, in the same table shape.
      await admin.getByRole("link", { name: "Audit log" }).click();
      await admin.getByRole("columnheader", { name: "Outcome" }).waitFor();
      expect(await admin.getByRole("row").filter({ hasText: "api_key" }).count()).toBeGreaterThan(0);
      // A staged rollout: listed with its stage and counts, and paused from the console (an audited PATCH).
      const adminJson = { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" };
      const release = await fetch(`${t.url}/v1/admin/worker-releases`, {
        method: "POST",
        headers: adminJson,
        body: JSON.stringify({
          version: "7.0.0",
          packageBase64: Buffer.from("not checked by the server").toString("base64"),
          signature: "c".repeat(86),
        }),
      });
      expect(release.status).toBe(201);
      const created = await fetch(`${t.url}/v1/admin/worker-rollouts`, {
        method: "POST",
        headers: adminJson,
        body: JSON.stringify({ version: "7.0.0", percent: 10 }),
      });
      const rollout = (await created.json()) as { id: string };
      await admin.getByRole("link", { name: "Worker rollouts" }).click();
      const rolloutRow = admin.getByRole("row").filter({ hasText: "7.0.0" });
      await rolloutRow.getByText("10%", { exact: true }).waitFor();
      await rolloutRow.getByRole("button", { name: "Pause" }).click();
      await rolloutRow.getByRole("button", { name: "Resume" }).waitFor();
      const paused = await fetch(`${t.url}/v1/admin/worker-rollouts/${rollout.id}`, { headers: adminJson });
      expect(((await paused.json()) as { status: string }).status).toBe("paused");
      await admin.close();
    },
    STEP_MS,
  );
});
