import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestBrowser } from "../../apps/server/src/identity/oidc/test-browser.js";
import { createTestDatabase } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { browserSkipReason, launchChromium } from "./browser-harness.js";

const skip = browserSkipReason();
if (skip) console.warn(`[ignis tests] ${skip}`);

const EMAIL = "cli-user@example.org";
const PASSWORD = "a long and honest password";

describe.skipIf(skip !== undefined)("device-code sign-in in a real browser", () => {
  let t: TestServer;
  let closeDatabase: () => Promise<void>;
  let browser: Browser;
  let clientId: string;

  beforeAll(async () => {
    const database = await createTestDatabase("pglite");
    closeDatabase = () => database.close();
    t = await startTestServer({ database });
    const res = await fetch(`${t.url}/v1/admin/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email: EMAIL, roles: ["supplier"] }),
    });
    const { inviteUrl } = (await res.json()) as { inviteUrl: string };
    const invite = createTestBrowser();
    await invite.submit(await invite.open(inviteUrl), { password: PASSWORD, confirmation: PASSWORD });
    clientId = ((await (await fetch(`${t.url}/v1/auth/config`)).json()) as { cliClientId: string })
      .cliClientId;
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await closeDatabase?.();
  });

  it("approves a device code from verification_uri_complete and the CLI gets its tokens", {
    timeout: 90_000,
  }, async () => {
    const started = await fetch(`${t.url}/oidc/device/auth`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: clientId, scope: "openid email offline_access api" }),
    });
    const grant = (await started.json()) as { device_code: string; verification_uri_complete: string };
    const page = await (await browser.newContext()).newPage();
    await page.goto(grant.verification_uri_complete);
    // The confirmation page (the code is already filled in), then our login page, then the success page.
    await page.getByRole("button", { name: "Yes, continue" }).click();
    await page.waitForURL(/\/interaction\//);
    await page.fill('input[name="email"]', EMAIL);
    await page.fill('input[name="password"]', PASSWORD);
    await page.locator('form [type="submit"]').first().click();
    await expect.poll(() => page.content(), { timeout: 20_000 }).toContain("You are signed in");
    const token = await fetch(`${t.url}/oidc/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        device_code: grant.device_code,
        client_id: clientId,
      }),
    });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    const me = await fetch(`${t.url}/v1/me`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(await me.json()).toMatchObject({ email: EMAIL, credential: "token" });
  });
});
