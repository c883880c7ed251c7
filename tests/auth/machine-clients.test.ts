import { decodeJwt } from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
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
});
