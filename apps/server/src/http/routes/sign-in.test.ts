import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestBrowser, type TestBrowser } from "../../identity/oidc/test-browser.js";
import { verifyAuditChain } from "../../security/audit-log.js";
import { describeEachDialect } from "../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";

describeEachDialect("sign-in pages", (database) => {
  let t: TestServer;
  beforeAll(async () => {
    // Real budgets here, behind a trusted proxy so each test browser can be its own client address.
    t = await startTestServer({
      database: database(),
      env: { IGNIS_RATE_LIMITS: "on", IGNIS_TRUST_PROXY: "127.0.0.1" },
    });
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

  /** The audit outcome and reason of the newest sign-in attempt from a client address. */
  const lastSignInAudit = async (ip: string) =>
    database()
      .db.selectFrom("audit_log")
      .select(["outcome", "details"])
      .where("action", "=", "user.sign-in")
      .where("ip", "=", ip)
      .orderBy("seq", "desc")
      .executeTakeFirst();

  it("delays a client's repeated failures on one e-mail, growing each time, and audits the refusal", async () => {
    const browser = createTestBrowser(() => false, { "x-forwarded-for": "198.51.100.31" });
    const page = await loginPage(browser);
    const statuses: number[] = [];
    for (let i = 0; i < 8 && statuses.at(-1) !== 429; i++) {
      statuses.push(
        (await browser.submit(page, { email: "target@example.com", password: `guess ${i}` })).status,
      );
    }
    // Three free failures, then delays: refused while a delay runs (1 s, then 2 s, 4 s...).
    expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    const refused = await browser.submit(page, { email: "target@example.com", password: "again" });
    expect(refused.status).toBe(429);
    expect(refused.body).toContain("Too many attempts");
    expect(await lastSignInAudit("198.51.100.31")).toMatchObject({
      outcome: "refused:error",
      details: { reason: "rate_limited" },
    });
  });

  it("does not let a guesser elsewhere lock the owner out", async () => {
    const attacker = createTestBrowser(() => false, { "x-forwarded-for": "203.0.113.41" });
    const attackPage = await loginPage(attacker);
    let last = 0;
    for (let i = 0; i < 12 && last !== 429; i++) {
      last = (await attacker.submit(attackPage, { email: "known@example.com", password: `guess ${i}` }))
        .status;
    }
    expect(last).toBe(429);
    const owner = createTestBrowser((url) => url.startsWith(`${t.url}/auth/callback`), {
      "x-forwarded-for": "192.0.2.42",
    });
    await owner.submit(await loginPage(owner), {
      email: "known@example.com",
      password: "the right password",
    });
    expect(owner.stoppedAt).toContain("code=");
  });

  it("caps one client's attempts over all e-mails with its own budget", async () => {
    const sprayer = createTestBrowser(() => false, { "x-forwarded-for": "203.0.113.42" });
    const page = await loginPage(sprayer);
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await sprayer.submit(page, { email: `user${i}@example.com`, password: "Winter2026!" });
      statuses.push(res.status);
      if (res.status === 429) break;
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
  });

  it("keeps the audit chain intact through all of it", async () => {
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });
});
