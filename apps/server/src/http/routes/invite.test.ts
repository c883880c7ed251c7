import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestBrowser } from "../../identity/oidc/test-browser.js";
import { describeEachDialect } from "../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";

describeEachDialect("invitation pages", (database) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ database: database() });
  });
  afterAll(() => t.stop());

  const invite = async (email: string) => {
    const res = await fetch(`${t.url}/v1/admin/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email, roles: ["customer"] }),
    });
    return (await res.json()) as { id: string; inviteUrl: string };
  };
  const passwordHash = async (id: string) =>
    (
      await t.server.ctx.db
        .selectFrom("users")
        .select("password_hash")
        .where("id", "=", id)
        .executeTakeFirstOrThrow()
    ).password_hash;

  it("sets the password once, audits it, and then answers the link with 404", async () => {
    const user = await invite("once@example.com");
    expect(user.inviteUrl).toMatch(new RegExp(`^${t.url}/invite/[A-Za-z0-9_-]{43}$`));
    const browser = createTestBrowser();
    const form = await browser.open(user.inviteUrl);
    expect(form.body).toContain("once@example.com");
    const done = await browser.submit(form, {
      password: "a very long secret",
      confirmation: "a very long secret",
    });
    expect(done.status).toBe(200);
    expect(await passwordHash(user.id)).toMatch(/^\$argon2id\$/);

    const reused = await browser.submit(form, {
      password: "another long secret",
      confirmation: "another long secret",
    });
    expect(reused.status).toBe(404);
    expect(reused.body).toContain("not valid");
    expect((await browser.open(user.inviteUrl)).status).toBe(404);

    const audit = await t.server.ctx.db
      .selectFrom("audit_log")
      .select(["object_id", "outcome"])
      .where("action", "=", "user.set-password")
      .orderBy("seq")
      .execute();
    expect(audit.filter((a) => a.object_id === user.id)).toEqual([{ object_id: user.id, outcome: "ok" }]);
  });

  it("refuses a short or mismatched password and keeps the link usable", async () => {
    const user = await invite("short@example.com");
    const browser = createTestBrowser();
    const form = await browser.open(user.inviteUrl);
    const short = await browser.submit(form, { password: "too short", confirmation: "too short" });
    expect(short.status).toBe(400);
    expect(short.body).toContain("at least 12 characters");
    const differ = await browser.submit(form, {
      password: "long enough one",
      confirmation: "long enough two",
    });
    expect(differ.status).toBe(400);
    expect(await passwordHash(user.id)).toBeNull();
    expect(
      (await browser.submit(form, { password: "long enough one", confirmation: "long enough one" })).status,
    ).toBe(200);
  });

  it("refuses a post without the form's CSRF token, or from another origin", async () => {
    const user = await invite("csrf@example.com");
    const body = new URLSearchParams({ password: "a very long secret", confirmation: "a very long secret" });
    const noToken = await fetch(user.inviteUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(noToken.status).toBe(403);
    const form = await createTestBrowser().open(user.inviteUrl);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? "";
    body.set("csrf", csrf);
    const crossSite = await fetch(user.inviteUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
      body,
    });
    expect(crossSite.status).toBe(403);
    expect(await passwordHash(user.id)).toBeNull();
  });

  it("answers unknown invitation links with a clear 404 page", async () => {
    for (const token of ["x".repeat(43), "short", "%3Cscript%3E"]) {
      const res = await fetch(`${t.url}/invite/${token}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toContain("text/html");
      const page = await res.text();
      expect(page).toContain("This invitation is not valid");
      expect(page).not.toContain("<script>");
    }
  });
});
