import * as client from "openid-client";
import {
  readCredentials,
  type SavedLogin,
  withCredentialsLock,
  writeCredentials,
} from "./credentials-store.js";
import { toSavedLogin } from "./device-login.js";
import { discoverIssuer } from "./sign-in-issuer.js";
import { defaultStateDir, normalizeServer } from "./state-dir.js";

/** A bearer credential for the Ignis API and the server it is for. */
export interface ResolvedCredential {
  server: string;
  token: string;
  source: "api-key" | "login";
}

/** Raised when there is no usable credential; the message tells the user what to run. */
export class NotSignedInError extends Error {
  override readonly name = "NotSignedInError";
}

// Refresh a little early, so a token does not expire between this check and the server's.
const EXPIRY_MARGIN_SECONDS = 60;

/**
 * The credential other commands send: an explicit `--api-key` or IGNIS_API_KEY first, else the saved
 * `ignis login` tokens for the server (IGNIS_SERVER, or the last server logged in to), refreshed when expired.
 */
export async function resolveCredential(
  options: { server?: string | undefined; apiKey?: string | undefined; stateDir?: string | undefined } = {},
): Promise<ResolvedCredential> {
  const stateDir = options.stateDir ?? defaultStateDir();
  const apiKey = options.apiKey ?? process.env.IGNIS_API_KEY;
  const given = options.server ?? process.env.IGNIS_SERVER;
  const server = given ? normalizeServer(given) : readCredentials(stateDir).current;
  if (!server)
    throw new NotSignedInError("no server given: pass --server URL, or run `ignis login --server URL`");
  if (apiKey) return { server, token: apiKey, source: "api-key" };
  const login = readCredentials(stateDir).logins[server];
  if (!login)
    throw new NotSignedInError(`not logged in to ${server}: run \`ignis login --server ${server}\``);
  if (fresh(login)) return { server, token: login.accessToken, source: "login" };
  return { server, token: (await refreshLogin(stateDir, server)).accessToken, source: "login" };
}

function fresh(login: SavedLogin): boolean {
  return login.expiresAt - EXPIRY_MARGIN_SECONDS > Date.now() / 1000;
}

/** Spends the saved refresh token for a new access token (under the lock, re-reading first). */
export async function refreshLogin(stateDir: string, server: string): Promise<SavedLogin> {
  return withCredentialsLock(stateDir, async () => {
    const credentials = readCredentials(stateDir);
    const login = credentials.logins[server];
    if (!login)
      throw new NotSignedInError(`not logged in to ${server}: run \`ignis login --server ${server}\``);
    // Another command may have refreshed while we waited for the lock.
    if (fresh(login)) return login;
    if (!login.refreshToken)
      throw new NotSignedInError(
        `the login to ${server} has expired: run \`ignis login --server ${server}\``,
      );
    const config = await discoverIssuer(login.issuer, login.clientId);
    let tokens: client.TokenEndpointResponse;
    try {
      tokens = await client.refreshTokenGrant(config, login.refreshToken);
    } catch (error) {
      if (error instanceof client.ResponseBodyError && error.error === "invalid_grant") {
        delete credentials.logins[server];
        writeCredentials(stateDir, credentials);
        throw new NotSignedInError(
          `the login to ${server} has ended: run \`ignis login --server ${server}\``,
        );
      }
      throw error;
    }
    const refreshed = { ...toSavedLogin(login.issuer, login.clientId, tokens, login.refreshToken) };
    if (!refreshed.email && login.email) refreshed.email = login.email;
    credentials.logins[server] = refreshed;
    writeCredentials(stateDir, credentials);
    return refreshed;
  });
}
