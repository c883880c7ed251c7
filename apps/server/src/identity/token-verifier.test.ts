import { createPublicKey } from "node:crypto";
import { base64url, SignJWT } from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
import { verifyAuditChain } from "../security/audit-log.js";
import { describeEachDialect } from "../testing/dialects.js";
import { createTestIssuer, type TestIssuer } from "../testing/test-issuer.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";

const now = () => Math.floor(Date.now() / 1000);

describeEachDialect("access token verification", (database) => {
  let t: TestServer;
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer();
    t = await startTestServer({ database: database(), issuer });
  });
  afterAll(() => t.stop());

  const userEmails = async () => {
    const res = await fetch(`${t.url}/v1/admin/users?limit=100`, {
      headers: { authorization: `Bearer ${t.adminKey}` },
    });
    return ((await res.json()) as { items: { email: string | null }[] }).items.map((u) => u.email).sort();
  };

  let attempts = 0;
  /** Tries a write with the token; returns the status, problem code and the outcome its audit record holds. */
  const attempt = async (token: string) => {
    attempts += 1;
    const requestId = `forged-${attempts}-${Date.now().toString(36)}`;
    const res = await fetch(`${t.url}/v1/api-keys`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "x-request-id": requestId,
      },
      body: JSON.stringify({ name: "forged" }),
    });
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const audit = await database()
      .db.selectFrom("audit_log")
      .select(["outcome", "actor_type"])
      .where("request_id", "=", requestId)
      .execute();
    return { status: res.status, code: ((await res.json()) as { code: string }).code, audit };
  };

  const forgeries: Array<[string, () => Promise<string>, string]> = [
    [
      "an unsigned token (alg none)",
      async () => {
        const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
        const claims = {
          iss: issuer.issuer,
          aud: issuer.audience,
          sub: "mallory",
          iat: now(),
          exp: now() + 300,
        };
        return `${header}.${base64url.encode(JSON.stringify(claims))}.`;
      },
      "invalid_token",
    ],
    [
      "an HS256 token keyed with the issuer's public key bytes",
      async () => {
        const pem = createPublicKey({ key: issuer.publicJwk, format: "jwk" }).export({
          type: "spki",
          format: "pem",
        });
        return new SignJWT({ email: "mallory@example.com" })
          .setProtectedHeader({ alg: "HS256", kid: "test-key" })
          .setIssuer(issuer.issuer)
          .setAudience(issuer.audience)
          .setSubject("mallory")
          .setIssuedAt()
          .setExpirationTime("5m")
          .sign(new TextEncoder().encode(String(pem)));
      },
      "invalid_token",
    ],
    [
      "a token of another issuer",
      () => issuer.token("mallory", { iss: "https://evil.example" }),
      "invalid_token",
    ],
    [
      "a token for another audience",
      () => issuer.token("mallory", { aud: "some-other-api" }),
      "invalid_token",
    ],
    [
      "an expired token",
      () => issuer.token("mallory", { iat: now() - 7200, exp: now() - 3600 }),
      "token_expired",
    ],
    [
      "a token not valid yet (nbf in the future)",
      () => issuer.token("mallory", { nbf: now() + 3600 }),
      "invalid_token",
    ],
    [
      "a DPoP-bound token presented as a plain Bearer token",
      () => issuer.token("mallory", { cnf: { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" } }),
      "invalid_token",
    ],
    [
      "a token whose signature was tampered with",
      async () => {
        const [header, payload, signature = ""] = (await issuer.token("mallory")).split(".");
        const flipped = signature.startsWith("A") ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
        return `${header}.${payload}.${flipped}`;
      },
      "invalid_token",
    ],
    [
      "a token whose claims were swapped under a valid signature",
      async () => {
        const [header, , signature] = (await issuer.token("mallory")).split(".");
        const claims = {
          iss: issuer.issuer,
          aud: issuer.audience,
          sub: "admin",
          iat: now(),
          exp: now() + 300,
        };
        return `${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`;
      },
      "invalid_token",
    ],
  ];

  for (const [name, forge, code] of forgeries) {
    it(`refuses ${name} with 401 ${code} and changes nothing`, async () => {
      const before = await userEmails();
      // Refused as anonymous (the token names nobody), and on the record.
      expect(await attempt(await forge())).toEqual({
        status: 401,
        code,
        audit: [{ outcome: `refused:${code}`, actor_type: "anonymous" }],
      });
      expect(await userEmails()).toEqual(before);
    });
  }

  it("accepts the same request with a genuine token, so the refusals above are about the token", async () => {
    const res = await fetch(`${t.url}/v1/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${await issuer.token("alice")}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "genuine" }),
    });
    expect(res.status).toBe(201);
  });

  it("keeps the audit chain intact through all of it", async () => {
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });
});
