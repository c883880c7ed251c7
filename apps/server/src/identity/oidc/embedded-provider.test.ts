import { createHash, randomBytes } from "node:crypto";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";
import { createTestBrowser } from "./test-browser.js";

describeEachDialect("embedded OpenID provider", (database) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ database: database() });
  });
  afterAll(() => t.stop());

  const form = (body: Record<string, string>) => ({
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body).toString(),
  });
  const me = (token: string) => fetch(`${t.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });

  /** An admin creates a user; the user sets a password through the invitation page. */
  async function invitedUser(email: string, password: string, roles = ["supplier"]) {
    const res = await fetch(`${t.url}/v1/admin/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email, roles }),
    });
    const user = (await res.json()) as { id: string; inviteUrl: string };
    const browser = createTestBrowser();
    const invite = await browser.open(user.inviteUrl);
    expect(invite.status).toBe(200);
    const done = await browser.submit(invite, { password, confirmation: password });
    expect(done.status).toBe(200);
    expect(done.body).toContain("Your password is set");
    return user;
  }

  it("serves discovery with the public issuer, the device endpoint and S256 only", async () => {
    const res = await fetch(`${t.url}/oidc/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(`${t.url}/oidc`);
    expect(doc.device_authorization_endpoint).toBe(`${t.url}/oidc/device/auth`);
    expect(doc.token_endpoint).toBe(`${t.url}/oidc/token`);
    expect(doc.code_challenge_methods_supported).toEqual(["S256"]);
    // Public apps use none; machine clients (client credentials, introspection) use their secret.
    expect(doc.token_endpoint_auth_methods_supported).toEqual([
      "none",
      "client_secret_basic",
      "client_secret_post",
    ]);
    expect(doc.grant_types_supported).toContain("client_credentials");
    expect(doc.userinfo_endpoint).toBe(`${t.url}/oidc/me`);
    expect(doc.introspection_endpoint).toBe(`${t.url}/oidc/token/introspection`);
    const auth = (await (await fetch(`${t.url}/v1/auth/config`)).json()) as Record<string, unknown>;
    expect(auth).toMatchObject({
      issuer: `${t.url}/oidc`,
      cliClientId: "ignis-cli",
      webClientId: "ignis-web",
    });
  });

  it("signs a CLI in with the device flow: invite, code, login, confirm, token, then GET /v1/me", async () => {
    const user = await invitedUser("device@example.com", "correct horse battery");
    const started = await fetch(
      `${t.url}/oidc/device/auth`,
      form({ client_id: "ignis-cli", scope: "openid email offline_access api" }),
    );
    expect(started.status).toBe(200);
    const device = (await started.json()) as {
      device_code: string;
      user_code: string;
      verification_uri: string;
    };
    const pending = await fetch(
      `${t.url}/oidc/token`,
      form({
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        device_code: device.device_code,
        client_id: "ignis-cli",
      }),
    );
    expect(((await pending.json()) as { error: string }).error).toBe("authorization_pending");

    const browser = createTestBrowser();
    const input = await browser.open(device.verification_uri);
    expect(input.body).toContain("Connect the Ignis CLI");
    const confirm = await browser.submit(input, { user_code: device.user_code }, "op.deviceInputForm");
    expect(confirm.body).toContain(device.user_code);
    const login = await browser.submit(confirm, {}, "op.deviceConfirmForm");
    expect(login.url).toMatch(/\/interaction\/[\w-]+$/);
    const success = await browser.submit(login, {
      email: "DEVICE@example.com",
      password: "correct horse battery",
    });
    expect(success.status).toBe(200);
    expect(success.body).toContain("You are signed in");

    const tokenRes = await fetch(
      `${t.url}/oidc/token`,
      form({
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        device_code: device.device_code,
        client_id: "ignis-cli",
      }),
    );
    expect(tokenRes.status).toBe(200);
    const tokens = (await tokenRes.json()) as {
      access_token: string;
      refresh_token: string;
      expires_in: number;
    };
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe("RS256");
    expect(decodeJwt(tokens.access_token)).toMatchObject({
      iss: `${t.url}/oidc`,
      aud: "ignis-api",
      sub: user.id,
      email: "device@example.com",
    });
    const who = await me(tokens.access_token);
    expect(who.status).toBe(200);
    expect(await who.json()).toEqual({
      id: user.id,
      email: "device@example.com",
      roles: ["supplier"],
      credential: "token",
    });

    const refreshed = await fetch(
      `${t.url}/oidc/token`,
      form({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: "ignis-cli" }),
    );
    expect(refreshed.status).toBe(200);
    const again = (await refreshed.json()) as { access_token: string };
    expect((await me(again.access_token)).status).toBe(200);
  });

  it("answers userinfo for a sign-in without the API scope, and refuses an API token there", async () => {
    await invitedUser("userinfo@example.com", "a userinfo password");
    const started = await fetch(
      `${t.url}/oidc/device/auth`,
      form({ client_id: "ignis-cli", scope: "openid email" }),
    );
    const device = (await started.json()) as {
      device_code: string;
      user_code: string;
      verification_uri: string;
    };
    const browser = createTestBrowser();
    const input = await browser.open(device.verification_uri);
    const confirm = await browser.submit(input, { user_code: device.user_code }, "op.deviceInputForm");
    const login = await browser.submit(confirm, {}, "op.deviceConfirmForm");
    await browser.submit(login, { email: "userinfo@example.com", password: "a userinfo password" });
    const tokenRes = await fetch(
      `${t.url}/oidc/token`,
      form({
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        device_code: device.device_code,
        client_id: "ignis-cli",
      }),
    );
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const info = await fetch(`${t.url}/oidc/me`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ email: "userinfo@example.com" });
    // That token is not for the API, and the API's own tokens are not for userinfo.
    expect((await me(access_token)).status).toBe(401);
  });

  it("signs the web UI in with authorization code + PKCE, back to a path under /auth/callback", async () => {
    const user = await invitedUser("web@example.com", "another long password");
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const redirectUri = `${t.url}/auth/callback/devices`;
    const authorize = new URL(`${t.url}/oidc/auth`);
    authorize.search = new URLSearchParams({
      client_id: "ignis-web",
      response_type: "code",
      redirect_uri: redirectUri,
      scope: "openid email api",
      state: "state-123",
      code_challenge: challenge,
      code_challenge_method: "S256",
    }).toString();
    const browser = createTestBrowser((url) => url.startsWith(`${t.url}/auth/callback`));
    const login = await browser.open(authorize.href);
    expect(login.body).toContain("Sign in");
    await browser.submit(login, { email: "web@example.com", password: "another long password" });
    const callback = new URL(browser.stoppedAt ?? "");
    expect(callback.pathname).toBe("/auth/callback/devices");
    expect(callback.searchParams.get("state")).toBe("state-123");
    const code = callback.searchParams.get("code") ?? "";

    const redeem = (codeVerifier: string) =>
      fetch(
        `${t.url}/oidc/token`,
        form({
          grant_type: "authorization_code",
          code,
          redirect_uri: redirectUri,
          client_id: "ignis-web",
          code_verifier: codeVerifier,
        }),
      );
    expect((await redeem(randomBytes(32).toString("base64url"))).status).toBe(400);
    const ok = await redeem(verifier);
    expect(ok.status).toBe(200);
    const { access_token } = (await ok.json()) as { access_token: string };
    expect(((await (await me(access_token)).json()) as { id: string }).id).toBe(user.id);
  });

  it("refuses an authorization request without PKCE or with a foreign redirect URI", async () => {
    const browser = createTestBrowser();
    const base = { client_id: "ignis-web", response_type: "code", scope: "openid" };
    const noPkce = await browser.open(
      `${t.url}/oidc/auth?${new URLSearchParams({ ...base, redirect_uri: `${t.url}/auth/callback` })}`,
    );
    expect(browser.stoppedAt ?? noPkce.url).toContain("error=invalid_request");
    const foreign = await browser.open(
      `${t.url}/oidc/auth?${new URLSearchParams({ ...base, redirect_uri: "https://evil.example/auth/callback", code_challenge: "x".repeat(43), code_challenge_method: "S256" })}`,
    );
    expect(foreign.status).toBe(400);
    expect(foreign.body).toContain("redirect_uri");
  });
});
