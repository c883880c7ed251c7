import type { WebConfig } from "@ignis/protocol";
import { problemFrom } from "../lib/problem";
import { createPkcePair, randomUrlSafe } from "./pkce";

/** The issuer endpoints the web app uses, from its discovery document. */
export interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

/** Tokens from the issuer's token endpoint. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const PENDING_KEY = "ignis.signin";
let configPromise: Promise<WebConfig> | undefined;
let discoveryPromise: Promise<Discovery> | undefined;

/** The issuer and client the server tells us to use (`GET /v1/web-config`). */
export function webConfig(): Promise<WebConfig> {
  configPromise ??= fetch("/v1/web-config").then(async (r) => {
    if (!r.ok) throw await problemFrom(r);
    return (await r.json()) as WebConfig;
  });
  configPromise.catch(() => {
    configPromise = undefined;
  });
  return configPromise;
}

/** The issuer's OpenID discovery document. */
export function discovery(): Promise<Discovery> {
  discoveryPromise ??= webConfig().then(async (config) => {
    const r = await fetch(`${config.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
    if (!r.ok) throw await problemFrom(r);
    return (await r.json()) as Discovery;
  });
  discoveryPromise.catch(() => {
    discoveryPromise = undefined;
  });
  return discoveryPromise;
}

const redirectUri = (config: WebConfig) => `${window.location.origin}${config.redirectPath}`;

/** Starts the authorization code flow with PKCE (S256): remembers the verifier and leaves for the issuer. */
export async function beginSignIn(returnTo: string): Promise<void> {
  const config = await webConfig();
  // The embedded provider only accepts its own origin's callback: a page opened under another name for the same
  // server (127.0.0.1 for localhost) moves to the public origin first, then signs in from there.
  const publicOrigin = new URL(config.issuer).origin;
  if (config.embedded && publicOrigin !== window.location.origin) {
    window.location.assign(`${publicOrigin}/signin?next=${encodeURIComponent(returnTo)}`);
    return;
  }
  const [endpoints, pkce] = await Promise.all([discovery(), createPkcePair()]);
  const state = randomUrlSafe(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, verifier: pkce.verifier, returnTo }));
  const url = new URL(endpoints.authorization_endpoint);
  const params: Record<string, string> = {
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri(config),
    scope: config.scopes.join(" "),
    state,
    code_challenge: pkce.challenge,
    code_challenge_method: "S256",
  };
  // External issuers such as Auth0 select the API by audience; the embedded one has a default resource.
  if (!config.embedded) params.audience = config.audience;
  // OpenID Connect issues a refresh token for offline_access only with prompt=consent.
  if (config.scopes.includes("offline_access")) params.prompt = "consent";
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  window.location.assign(url.toString());
}

function tokenSetFrom(body: Record<string, unknown>, previous?: TokenSet): TokenSet {
  if (typeof body.access_token !== "string") throw new Error("the issuer returned no access token");
  const expiresIn = typeof body.expires_in === "number" ? body.expires_in : 300;
  const refreshToken = typeof body.refresh_token === "string" ? body.refresh_token : previous?.refreshToken;
  const idToken = typeof body.id_token === "string" ? body.id_token : previous?.idToken;
  return {
    accessToken: body.access_token,
    expiresAt: Date.now() + expiresIn * 1000,
    ...(refreshToken ? { refreshToken } : {}),
    ...(idToken ? { idToken } : {}),
  };
}

async function tokenRequest(form: Record<string, string>, previous?: TokenSet): Promise<TokenSet> {
  const endpoints = await discovery();
  const r = await fetch(endpoints.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams(form).toString(),
  });
  if (!r.ok) throw await problemFrom(r);
  return tokenSetFrom((await r.json()) as Record<string, unknown>, previous);
}

/** Finishes sign-in on the redirect URI: checks state, redeems the code with the verifier. */
export async function completeSignIn(
  query: URLSearchParams,
): Promise<{ tokens: TokenSet; returnTo: string }> {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? "null") as {
    state: string;
    verifier: string;
    returnTo: string;
  } | null;
  sessionStorage.removeItem(PENDING_KEY);
  const error = query.get("error");
  if (error) throw new Error(query.get("error_description") ?? error);
  if (!pending || query.get("state") !== pending.state) {
    throw new Error("this sign-in response does not match a sign-in started here; start again");
  }
  const config = await webConfig();
  const tokens = await tokenRequest({
    grant_type: "authorization_code",
    code: query.get("code") ?? "",
    redirect_uri: redirectUri(config),
    client_id: config.clientId,
    code_verifier: pending.verifier,
  });
  return { tokens, returnTo: pending.returnTo.startsWith("/") ? pending.returnTo : "/" };
}

/** Trades a refresh token for a new access token. */
export async function refreshTokens(tokens: TokenSet): Promise<TokenSet> {
  const config = await webConfig();
  if (!tokens.refreshToken) throw new Error("no refresh token");
  return tokenRequest(
    { grant_type: "refresh_token", refresh_token: tokens.refreshToken, client_id: config.clientId },
    tokens,
  );
}

/** Where to send the browser to end the issuer's session too, if the issuer supports it. */
export async function endSessionUrl(idToken: string | undefined): Promise<string | undefined> {
  const [config, endpoints] = await Promise.all([webConfig(), discovery()]);
  if (!endpoints.end_session_endpoint) return undefined;
  const url = new URL(endpoints.end_session_endpoint);
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("post_logout_redirect_uri", `${window.location.origin}/`);
  if (idToken) url.searchParams.set("id_token_hint", idToken);
  return url.toString();
}
