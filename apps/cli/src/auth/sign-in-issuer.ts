import { AuthConfig } from "@ignis/protocol";
import * as client from "openid-client";
import { ApiError, apiRequest } from "../api-client.js";

/** What the CLI signs in against: the server's auth settings and the discovered issuer. */
export interface SignInIssuer {
  auth: AuthConfig;
  config: client.Configuration;
}

/** Plain http is acceptable only to this machine (a local server or a test). */
export function isLoopbackUrl(url: string): boolean {
  const { hostname } = new URL(url);
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]";
}

/** The server's sign-in settings; a server without `/v1/auth/config` is assumed to run the embedded provider. */
export async function fetchAuthConfig(server: string): Promise<AuthConfig> {
  try {
    return AuthConfig.parse(await apiRequest<unknown>(server, "v1/auth/config", { timeoutMs: 10_000 }));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    return {
      issuer: `${server}/oidc`,
      audience: "ignis-api",
      embedded: true,
      cliClientId: "ignis-cli",
      webClientId: "ignis-web",
      webRedirectUri: `${server}/auth/callback`,
      scopes: ["openid", "email", "offline_access", "api"],
    };
  }
}

/**
 * Discovers the issuer for the CLI's public client. openid-client refuses plain http issuers; we allow them
 * only on the loopback interface, where no one can sit in between.
 */
export async function discoverIssuer(issuer: string, clientId: string): Promise<client.Configuration> {
  const url = new URL(issuer);
  if (url.protocol === "http:" && !isLoopbackUrl(issuer))
    throw new Error(`refusing to sign in over plain http to ${url.host}; use https`);
  return client.discovery(
    url,
    clientId,
    undefined,
    client.None(),
    url.protocol === "http:" ? { execute: [client.allowInsecureRequests] } : undefined,
  );
}

/** Fetches the server's settings and discovers its issuer. */
export async function signInIssuer(server: string): Promise<SignInIssuer> {
  const auth = await fetchAuthConfig(server);
  return { auth, config: await discoverIssuer(auth.issuer, auth.cliClientId) };
}
