import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestBrowser, type TestBrowser } from "../../identity/oidc/test-browser.js";
import { describeEachDialect } from "../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";

describeEachDialect("sign-in pages", (database) => {
  let t: TestServer;
  beforeAll(async () => {
    // Real budgets here: the auth class allows 20 attempts a minute per IP and per e-mail.
    t = await startTestServer({ database: database(), env: { IGNIS_RATE_LIMITS: "on" } });
    const res = await fetch(`${t.url}/v1/admin/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email: "known@example.com", roles: ["supplier"] }),
    });
    const { inviteUrl } = (await res.json()) as { inviteUrl: string };
    const browser = createTestBrowser();
    await browser.submit(await browser.open(inviteUrl), {
      password: "the right password",
      confirmation: "the right password",
    });
  });
  afterAll(() => t.stop());

  /** Starts a web sign-in and returns the login page it lands on. */
  const loginPage = async (browser: TestBrowser) => {
    const challenge = createHash("sha256").update(randomBytes(32).toString("base64url")).digest("base64url");
    const params = new URLSearchParams({
      client_id: "ignis-web",
      response_type: "code",
      redirect_uri: `${t.url}/auth/callback`,
      scope: "openid email api",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const page = await browser.open(`${t.url}/oidc/auth?${params}`);
    expect(page.body).toContain('name="password"');
    return page;
  };

  it("answers a wrong password and an unknown e-mail alike, without saying which", async () => {
    const browser = createTestBrowser((url) => url.startsWith(`${t.url}/auth/callback`));
    const page = await loginPage(browser);
    const wrong = await browser.submit(page, { email: "known@example.com", password: "not the password" });
    const unknown = await browser.submit(page, { email: "nobody@example.com", password: "not the password" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const message = (body: string) => /<p class="error"[^>]*>([^<]*)</.exec(body)?.[1];
    expect(message(wrong.body)).toBe("The e-mail or password is not right.");
    expect(message(unknown.body)).toBe(message(wrong.body));
    await browser.submit(page, { email: "known@example.com", password: "the right password" });
    expect(browser.stoppedAt).toContain("code=");
  });

  it("refuses a login post without the interaction's CSRF token", async () => {
    const browser = createTestBrowser();
    const page = await loginPage(browser);
    const refused = await browser.submit(page, {
      csrf: "forged",
      email: "known@example.com",
      password: "the right password",
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain("could not be verified");
  });

  it("escapes what it echoes back into the page", async () => {
    const browser = createTestBrowser();
    const page = await loginPage(browser);
    const echoed = await browser.submit(page, { email: '"><script>alert(1)</script>', password: "x" });
    expect(echoed.body).not.toContain("<script>alert(1)</script>");
    expect(echoed.body).toContain("&quot;&gt;&lt;script&gt;");
  });

  it("rate-limits repeated attempts on one e-mail with 429", async () => {
    const browser = createTestBrowser();
    const page = await loginPage(browser);
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await browser.submit(page, { email: "target@example.com", password: `guess ${i}` });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body).toContain("Too many attempts");
        break;
      }
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
  });
});
