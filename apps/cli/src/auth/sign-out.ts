import * as client from "openid-client";
import { readCredentials, withCredentialsLock, writeCredentials } from "./credentials-store.js";
import { discoverIssuer } from "./sign-in-issuer.js";

/** What `ignis logout` did. */
export interface SignOutResult {
  server: string | undefined;
  /** True when the issuer confirmed the refresh token (and with it the grant) is revoked. */
  revoked: boolean;
}

/**
 * Forgets the saved login for a server (default: the current one) and revokes its refresh token at the
 * issuer when it can. The short-lived access token simply runs out.
 */
export async function signOut(stateDir: string, server?: string): Promise<SignOutResult> {
  return withCredentialsLock(stateDir, async () => {
    const credentials = readCredentials(stateDir);
    const target = server ?? credentials.current;
    const login = target ? credentials.logins[target] : undefined;
    if (!target || !login) return { server: target, revoked: false };
    let revoked = false;
    if (login.refreshToken) {
      try {
        const config = await discoverIssuer(login.issuer, login.clientId);
        await client.tokenRevocation(config, login.refreshToken, { token_type_hint: "refresh_token" });
        revoked = true;
      } catch {
        // Offline or no revocation endpoint: the local copy is deleted all the same.
      }
    }
    delete credentials.logins[target];
    if (credentials.current === target) {
      const next = Object.keys(credentials.logins)[0];
      if (next) credentials.current = next;
      else delete credentials.current;
    }
    writeCredentials(stateDir, credentials);
    return { server: target, revoked };
  });
}
