import { createHmac, generateKeyPairSync } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { createTestIssuer, type TestIssuer } from "../../apps/server/src/testing/test-issuer.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

describeEachDialect("JWT forgeries at the route level", (database) => {
  let t: TestServer;
  let issuer: TestIssuer;
  let valid: string;
  const forgeries: Record<string, () => Promise<string>> = {};

  beforeAll(async () => {
    issuer = await createTestIssuer();
    t = await startTestServer({ database: database(), issuer });
    valid = await issuer.token("alice", { email: "alice@example.test" });
    const [header, payload, signature] = valid.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const now = Math.floor(Date.now() / 1000);
    const attacker = await generateKeyPair("RS256", { extractable: true });
    const sign = (extra: object, key = attacker.privateKey, kid = "test-key") =>
      new SignJWT({ ...claims, ...extra }).setProtectedHeader({ alg: "RS256", kid }).sign(key);
    Object.assign(forgeries, {
      "alg none, unsigned": async () =>
        `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims, sub: "mallory" })}.`,
      "signed by another key under the issuer's kid": () => sign({ sub: "mallory", ignis_roles: ["admin"] }),
      "payload swapped under a valid signature": async () =>
        `${header}.${b64({ ...claims, sub: "mallory", ignis_roles: ["admin"] })}.${signature}`,
      "HS256 keyed with the issuer's public key (algorithm confusion)": async () => {
        const h = b64({ alg: "HS256", typ: "JWT", kid: "test-key" });
        const p = b64({ ...claims, sub: "mallory" });
        const secret = JSON.stringify(issuer.publicJwk);
        return `${h}.${p}.${createHmac("sha256", secret).update(`${h}.${p}`).digest("base64url")}`;
      },
      expired: () => issuer.token("alice", { exp: now - 600, iat: now - 1200 }),
      "not valid yet": () => issuer.token("alice", { nbf: now + 3600 }),
      "another audience": () => issuer.token("alice", { aud: "someone-else" }),
      "another issuer": () => issuer.token("alice", { iss: "https://evil.example" }),
      "embedded attacker JWK in the header": async () => {
        const jwk = await exportJWK(attacker.publicKey);
        return new SignJWT({ ...claims, sub: "mallory" })
          .setProtectedHeader({ alg: "RS256", jwk: { ...jwk, alg: "RS256" } })
          .sign(attacker.privateKey);
      },
      "Ed25519 key the issuer never published": async () => {
        const { privateKey } = generateKeyPairSync("ed25519");
        return new SignJWT({ ...claims, sub: "mallory" })
          .setProtectedHeader({ alg: "EdDSA" })
          .sign(privateKey);
      },
      "three dots of garbage": async () => "a.b.c",
    });
  });
  afterAll(() => t.stop());

  const call = (token: string, method: string, path: string, rid: string, body?: unknown) =>
    fetch(`${t.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        "x-request-id": rid,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });

  it("accepts the genuine token (the control)", async () => {
    const res = await call(valid, "GET", "/v1/me", "jwt-control-0001");
    expect(res.status).toBe(200);
  });

  it("refuses every forgery with a 401 and a token code, creates nothing and audits each refusal", async () => {
    const usersBefore = (await t.server.ctx.db.selectFrom("users").select("id").execute()).length;
    const keysBefore = (await t.server.ctx.db.selectFrom("api_keys").select("id").execute()).length;
    const results: string[] = [];
    let i = 0;
    for (const [name, forge] of Object.entries(forgeries)) {
      const token = await forge();
      for (const [method, path, body] of [
        ["GET", "/v1/me", undefined],
        ["POST", "/v1/api-keys", { name: "persistence" }],
        ["GET", "/v1/admin/users", undefined],
      ] as const) {
        i += 1;
        const rid = `jwt-forgery-${i}-${Date.now().toString(36)}`;
        const res = await call(token, method, path, rid, body);
        const problem = (await res.json()) as { code: string };
        const audit = await t.server.ctx.db
          .selectFrom("audit_log")
          .select(["outcome", "actor_type"])
          .where("request_id", "=", rid)
          .execute();
        const ok =
          res.status === 401 &&
          ["invalid_token", "token_expired", "unauthenticated"].includes(problem.code) &&
          res.headers.get("www-authenticate")?.startsWith("Bearer") &&
          audit.length === 1 &&
          audit[0]!.outcome === `refused:${problem.code}` &&
          audit[0]!.actor_type === "anonymous";
        if (!ok)
          results.push(
            `${name} ${method} ${path}: ${res.status} ${problem.code} audit=${JSON.stringify(audit)}`,
          );
      }
    }
    expect(results).toEqual([]);
    expect((await t.server.ctx.db.selectFrom("users").select("id").execute()).length).toBe(usersBefore);
    expect((await t.server.ctx.db.selectFrom("api_keys").select("id").execute()).length).toBe(keysBefore);
  });
});
