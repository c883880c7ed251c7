import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../apps/server/src/testing/dialects.js";
import { auditOf, requestId } from "./support/audit-trail.js";
import { buildWorld, type World } from "./support/world.js";

const ALLOWED = "https://dashboard.example.org";

describe("security headers, CORS and CSRF", () => {
  let w: World;
  beforeAll(async () => {
    w = await buildWorld(await createTestDatabase("pglite"), { IGNIS_CORS_ORIGINS: ALLOWED });
  });
  afterAll(async () => {
    await w.t.stop();
  });

  it("sends helmet's headers on answers, on problems and on refusals made before any route runs", async () => {
    const answers = [
      await w.call("anonymous", "GET", "/healthz"),
      await w.call("owner", "GET", "/v1/me"),
      await w.call("anonymous", "GET", "/v1/me"),
      await w.call("owner", "GET", "/v1/no-such-route"),
    ];
    for (const res of answers) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("strict-transport-security")).toMatch(/max-age=\d+/);
      // same-origin, not no-referrer: a same-origin form post must carry its real Origin (app.ts).
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
      expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(res.headers.get("x-powered-by")).toBeNull();
    }
  });

  it("gives a foreign origin no CORS grant, on simple requests and on preflights", async () => {
    const simple = await w.call("owner", "GET", "/v1/me", undefined, { origin: "https://evil.example" });
    expect(simple.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await w.call("anonymous", "OPTIONS", "/v1/api-keys", undefined, {
      origin: "https://evil.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(preflight.headers.get("access-control-allow-methods")).toBeNull();
  });

  it("grants a configured origin exactly itself, never with credentials and never a wildcard", async () => {
    const preflight = await w.call("anonymous", "OPTIONS", "/v1/api-keys", undefined, {
      origin: ALLOWED,
      "access-control-request-method": "POST",
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();
    const simple = await w.call("owner", "GET", "/v1/me", undefined, { origin: ALLOWED });
    expect(simple.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(simple.headers.get("access-control-allow-credentials")).toBeNull();
    expect(simple.headers.get("vary")).toContain("Origin");
  });

  it("refuses a cross-site write that rides a cookie with 403 csrf_failed, changes nothing and audits it", async () => {
    const before = await w.db.selectFrom("api_keys").select("id").execute();
    const rid = requestId("csrf");
    const res = await w.call(
      "anonymous",
      "POST",
      "/v1/api-keys",
      { name: "csrf" },
      {
        origin: "https://evil.example",
        cookie: "_session=stolen-by-the-browser",
        "x-request-id": rid,
      },
    );
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe("csrf_failed");
    expect(await w.db.selectFrom("api_keys").select("id").execute()).toHaveLength(before.length);
    expect(await auditOf(w, rid)).toMatchObject([{ outcome: "refused:csrf_failed" }]);
    const idp = await w.call(
      "anonymous",
      "POST",
      "/interaction/abc/login",
      { email: "a@b.c", password: "x" },
      {
        referer: "https://evil.example/phish",
        cookie: "_interaction=abc",
      },
    );
    expect(idp.status).toBe(403);
  });

  it("lets a same-origin browser write and a cookie-less API client through", async () => {
    const sameOrigin = await w.call(
      "owner",
      "POST",
      "/v1/api-keys",
      { name: "same-origin" },
      {
        origin: w.t.url,
        cookie: "_session=x",
      },
    );
    expect(sameOrigin.status).toBe(201);
    const apiClient = await w.call(
      "owner",
      "POST",
      "/v1/api-keys",
      { name: "cli" },
      { origin: "https://evil.example" },
    );
    expect(apiClient.status).toBe(201);
  });
});
