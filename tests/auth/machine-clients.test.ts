import { createHash } from "node:crypto";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
import { up as hashStoredSecrets } from "../../apps/server/src/db/migrations/0020-machine-client-secrets.js";
import { verifyAuditChain } from "../../apps/server/src/security/audit-log.js";
import { createUserWithKey, type FixtureUser } from "../../apps/server/src/security/security-fixtures.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";

describeEachDialect("machine clients of the embedded provider", (database) => {
  let t: TestServer;
  let customer: FixtureUser;
  let client: {
    clientId: string;
    clientSecret: string;
    tokenEndpoint: string;
    introspectionEndpoint: string;
  };

  beforeAll(async () => {
    t = await startTestServer({ database: database() });
    customer = await createUserWithKey(database().db, ["customer"]);
    const res = await fetch(`${t.url}/v1/admin/users/${customer.userId}/oidc-clients`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "billing robot" }),
    });
    expect(res.status).toBe(201);
    client = (await res.json()) as typeof client;
  }, 60_000);
  afterAll(() => t?.stop());

  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;
  const form = (authorization: string | undefined, body: Record<string, string>) => ({
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(authorization ? { authorization } : {}),
    },
    body: new URLSearchParams(body).toString(),
  });
  const machineToken = async () => {
    const res = await fetch(
      client.tokenEndpoint,
      form(basic(client.clientId, client.clientSecret), { grant_type: "client_credentials", scope: "api" }),
    );
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };

  it("gives a machine client an API token with the client-credentials grant; it acts as its user", async () => {
    const token = await machineToken();
    expect(decodeJwt(token)).toMatchObject({ sub: client.clientId, client_id: client.clientId });
    const me = await fetch(`${t.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).toMatchObject({ id: customer.userId, credential: "token" });
    const audit = await database()
      .db.selectFrom("audit_log")
      .select(["outcome", "details"])
      .where("action", "=", "admin.oidc-client.create")
      .execute();
    expect(audit).toContainEqual({
      outcome: "ok",
      details: expect.objectContaining({ clientId: client.clientId }),
    });
  });

  it("refuses the grant with a wrong secret, and to our public apps", async () => {
    const wrong = await fetch(
      client.tokenEndpoint,
      form(basic(client.clientId, "not the secret"), { grant_type: "client_credentials" }),
    );
    expect(wrong.status).toBe(401);
    const config = (await (await fetch(`${t.url}/v1/auth/config`)).json()) as { cliClientId: string };
    const publicApp = await fetch(
      client.tokenEndpoint,
      form(undefined, { grant_type: "client_credentials", client_id: config.cliClientId }),
    );
    expect(publicApp.status).toBe(400);
  });

  it("answers a resource server's introspection of an opaque token, and refuses it to anyone unauthenticated", async () => {
    const auth = basic(client.clientId, client.clientSecret);
    // Without the API scope the provider issues an opaque token, which only introspection can vouch for.
    const issued = await fetch(client.tokenEndpoint, form(auth, { grant_type: "client_credentials" }));
    const { access_token: opaque } = (await issued.json()) as { access_token: string };
    expect(opaque.split(".")).toHaveLength(1);
    const res = await fetch(client.introspectionEndpoint, form(auth, { token: opaque }));
    expect(await res.json()).toMatchObject({ active: true, client_id: client.clientId });
    const unknown = await fetch(client.introspectionEndpoint, form(auth, { token: `${opaque}x` }));
    expect(await unknown.json()).toEqual({ active: false });
    const anonymous = await fetch(client.introspectionEndpoint, form(undefined, { token: opaque }));
    expect(anonymous.status).toBe(400);
    // API tokens are JWTs: resource servers verify them against the provider's JWKS instead.
    const jwt = await fetch(client.introspectionEndpoint, form(auth, { token: await machineToken() }));
    expect(await jwt.json()).toMatchObject({ error: "unsupported_token_type" });
  });

  const admin = (method: string, path: string, requestId: string) =>
    fetch(`${t.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${t.adminKey}`, "x-request-id": requestId },
    });
  const auditOf = (requestId: string) =>
    database()
      .db.selectFrom("audit_log")
      .select(["action", "outcome", "object_id"])
      .where("request_id", "=", requestId)
      .execute();
  const storedSecret = async (clientId: string) => {
    const row = await database()
      .db.selectFrom("oidc_payloads")
      .select("payload")
      .where("kind", "=", "Client")
      .where("id", "=", clientId)
      .executeTakeFirst();
    if (!row) return undefined;
    const payload = (typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload) as {
      client_secret: string;
    };
    return payload.client_secret;
  };
  const sha256 = (secret: string) => `sha256:${createHash("sha256").update(secret).digest("hex")}`;
  const grant = (id: string, secret: string) =>
    fetch(client.tokenEndpoint, form(basic(id, secret), { grant_type: "client_credentials", scope: "api" }));

  it("stores only the digest of a client's secret", async () => {
    expect(await storedSecret(client.clientId)).toBe(sha256(client.clientSecret));
  });

  it("lists a user's machine clients without their secrets", async () => {
    const res = await admin("GET", `/v1/admin/users/${customer.userId}/oidc-clients`, "mc-list");
    expect(await res.json()).toEqual({
      items: [{ clientId: client.clientId, name: "billing robot", userId: customer.userId }],
    });
  });

  it("rotates a secret: the new one works, the old one is refused at once, and the rotation is audited", async () => {
    const old = client.clientSecret;
    const res = await admin(
      "POST",
      `/v1/admin/users/${customer.userId}/oidc-clients/${client.clientId}/rotate-secret`,
      "mc-rotate",
    );
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as typeof client;
    expect(rotated.clientId).toBe(client.clientId);
    expect(rotated.clientSecret).not.toBe(old);
    expect(await storedSecret(client.clientId)).toBe(sha256(rotated.clientSecret));
    expect((await grant(client.clientId, old)).status).toBe(401);
    expect((await grant(client.clientId, rotated.clientSecret)).status).toBe(200);
    client = rotated;
    expect(await auditOf("mc-rotate")).toEqual([
      { action: "admin.oidc-client.rotate", outcome: "ok", object_id: client.clientId },
    ]);
  });

  it("answers 404 for a client asked for under another user, changes nothing, and audits the refusal", async () => {
    const other = await createUserWithKey(database().db, ["customer"]);
    const before = await storedSecret(client.clientId);
    const rotate = await admin(
      "POST",
      `/v1/admin/users/${other.userId}/oidc-clients/${client.clientId}/rotate-secret`,
      "mc-rotate-foreign",
    );
    const remove = await admin(
      "DELETE",
      `/v1/admin/users/${other.userId}/oidc-clients/${client.clientId}`,
      "mc-delete-foreign",
    );
    expect([rotate.status, remove.status]).toEqual([404, 404]);
    expect(await storedSecret(client.clientId)).toBe(before);
    expect(await auditOf("mc-rotate-foreign")).toEqual([
      { action: "admin.oidc-client.rotate", outcome: "refused:not_found", object_id: client.clientId },
    ]);
    expect(await auditOf("mc-delete-foreign")).toEqual([
      { action: "admin.oidc-client.delete", outcome: "refused:not_found", object_id: client.clientId },
    ]);
    // Only an admin manages machine clients; the user it acts as is refused too.
    const self = await fetch(
      `${t.url}/v1/admin/users/${customer.userId}/oidc-clients/${client.clientId}/rotate-secret`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${customer.key}`, "x-request-id": "mc-self-rotate" },
      },
    );
    expect(self.status).toBe(403);
    expect(await auditOf("mc-self-rotate")).toMatchObject([{ outcome: "refused:forbidden" }]);
  });

  it("deletes a client: no more tokens, and the API token it already had acts as nobody", async () => {
    const token = await machineToken();
    const res = await admin(
      "DELETE",
      `/v1/admin/users/${customer.userId}/oidc-clients/${client.clientId}`,
      "mc-delete-own",
    );
    expect(res.status).toBe(204);
    expect(await storedSecret(client.clientId)).toBeUndefined();
    expect((await grant(client.clientId, client.clientSecret)).status).toBe(401);
    const me = await fetch(`${t.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(401);
    expect(await auditOf("mc-delete-own")).toEqual([
      { action: "admin.oidc-client.delete", outcome: "ok", object_id: client.clientId },
    ]);
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });

  it("replaces the secrets of clients stored before by their digests (migration 0020), and they still work", async () => {
    const res = await fetch(`${t.url}/v1/admin/users/${customer.userId}/oidc-clients`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "legacy robot" }),
    });
    const legacy = (await res.json()) as typeof client;
    // As an earlier release stored it: the secret itself.
    await database()
      .db.updateTable("oidc_payloads")
      .set((eb) => ({
        payload: eb.fn("jsonb_set", [
          "payload",
          eb.val("{client_secret}"),
          eb.fn("to_jsonb", [eb.cast(eb.val(legacy.clientSecret), "text")]),
        ]),
      }))
      .where("kind", "=", "Client")
      .where("id", "=", legacy.clientId)
      .execute();
    expect(await storedSecret(legacy.clientId)).toBe(legacy.clientSecret);
    await hashStoredSecrets(database().db as never);
    expect(await storedSecret(legacy.clientId)).toBe(sha256(legacy.clientSecret));
    expect((await grant(legacy.clientId, legacy.clientSecret)).status).toBe(200);
  });
});
