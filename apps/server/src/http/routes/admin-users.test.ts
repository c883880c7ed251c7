import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../testing/dialects.js";
import { createTestIssuer, type TestIssuer } from "../../testing/test-issuer.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";

describeEachDialect("admin users and API keys", (database) => {
  let t: TestServer;
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer();
    t = await startTestServer({ database: database(), issuer });
  });
  afterAll(() => t.stop());

  const call = (method: string, path: string, key?: string, body?: unknown) =>
    fetch(`${t.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });

  it("lets the bootstrap admin create a user and an API key for them", async () => {
    const created = await call("POST", "/v1/admin/users", t.adminKey, {
      email: "Sup@Example.com",
      roles: ["supplier"],
    });
    expect(created.status).toBe(201);
    const user = (await created.json()) as { id: string; email: string; roles: string[] };
    expect(user).toMatchObject({ email: "sup@example.com", roles: ["supplier"] });
    const keyRes = await call("POST", `/v1/admin/users/${user.id}/api-keys`, t.adminKey, { name: "ci" });
    expect(keyRes.status).toBe(201);
    const { key } = (await keyRes.json()) as { key: string };
    expect(key).toMatch(/^ign_[A-Za-z0-9_-]{43}$/);
    const me = await call("GET", "/v1/me", key);
    expect(await me.json()).toMatchObject({ id: user.id, roles: ["supplier"], credential: "api_key" });
  });

  it("refuses a second user with the same e-mail with 409 and a code", async () => {
    await call("POST", "/v1/admin/users", t.adminKey, { email: "dup@example.com", roles: ["customer"] });
    const again = await call("POST", "/v1/admin/users", t.adminKey, {
      email: "DUP@example.com",
      roles: ["customer"],
    });
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toContain("application/problem+json");
    expect(((await again.json()) as { code: string }).code).toBe("conflict");
  });

  it("refuses mass assignment of id or ownerId with unknown_field, and creates nothing", async () => {
    const res = await call("POST", "/v1/admin/users", t.adminKey, {
      email: "mass@example.com",
      roles: ["admin"],
      id: "usr_x",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("unknown_field");
    const list = (await (await call("GET", "/v1/admin/users?limit=100", t.adminKey)).json()) as {
      items: { email: string }[];
    };
    expect(list.items.map((u) => u.email)).not.toContain("mass@example.com");
  });

  it("answers malformed JSON with 400 malformed_json and oversized bodies with 413", async () => {
    const bad = await call("POST", "/v1/api-keys", t.adminKey, "{not json");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe("malformed_json");
    const huge = await call("POST", "/v1/api-keys", t.adminKey, { name: "x".repeat(300 * 1024) });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { code: string }).code).toBe("payload_too_large");
  });

  it("refuses a revoked API key with api_key_revoked", async () => {
    const res = await call("POST", "/v1/api-keys", t.adminKey, { name: "short-lived" });
    const { id, key } = (await res.json()) as { id: string; key: string };
    expect((await call("GET", "/v1/me", key)).status).toBe(200);
    expect((await call("DELETE", `/v1/api-keys/${id}`, t.adminKey)).status).toBe(204);
    const after = await call("GET", "/v1/me", key);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { code: string }).code).toBe("api_key_revoked");
  });

  it("maps a token of the external issuer to a user, binding an admin-created e-mail", async () => {
    await call("POST", "/v1/admin/users", t.adminKey, { email: "ext@example.com", roles: ["customer"] });
    const token = await issuer.token("subject-123", { email: "ext@example.com" });
    const me = await call("GET", "/v1/me", token);
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      email: "ext@example.com",
      roles: ["customer"],
      credential: "token",
    });
  });

  it("keeps non-admins out of admin routes with 403 forbidden", async () => {
    const token = await issuer.token("plain-user");
    const res = await call("POST", "/v1/admin/users", token, { email: "x@example.com", roles: ["admin"] });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe("forbidden");
  });
});
