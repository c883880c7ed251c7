import * as client from "openid-client";
import {
  readCredentials,
  type SavedLogin,
  withCredentialsLock,
  writeCredentials,
} from "./credentials-store.js";
import { signInIssuer } from "./sign-in-issuer.js";

/** What the user must do in a browser to approve the login. */
export interface DevicePrompt {
  verificationUri: string;
  verificationUriComplete: string | undefined;
  userCode: string;
  expiresInSeconds: number;
}

/** Turns a token endpoint answer into what we save. */
export function toSavedLogin(
  issuer: string,
  clientId: string,
  tokens: client.TokenEndpointResponse,
  previousRefreshToken?: string,
): SavedLogin {
  const claims = decodePayload(tokens.access_token);
  const refreshToken = tokens.refresh_token ?? previousRefreshToken;
  return {
    issuer,
    clientId,
    accessToken: tokens.access_token,
    ...(refreshToken ? { refreshToken } : {}),
    expiresAt: Math.floor(Date.now() / 1000) + (tokens.expires_in ?? 300),
    ...(typeof claims.email === "string" ? { email: claims.email } : {}),
  };
}

function decodePayload(jwt: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
  } catch {
    // An opaque access token (some external IdPs) carries nothing to show.
    return {};
  }
}

/**
 * `ignis login`: runs the device authorization grant (RFC 8628) against the server's issuer, shows the code,
 * waits for approval in the browser, and saves the tokens as the state dir's current login.
 */
export async function deviceLogin(options: {
  server: string;
  stateDir: string;
  prompt: (prompt: DevicePrompt) => void;
  signal?: AbortSignal;
}): Promise<SavedLogin> {
  const { auth, config } = await signInIssuer(options.server);
  const parameters: Record<string, string> = { scope: auth.scopes.join(" ") };
  // Auth0 and others select the API (and a JWT access token) by this parameter; the embedded provider defaults it.
  if (!auth.embedded) parameters.audience = auth.audience;
  const device = await client.initiateDeviceAuthorization(config, parameters);
  options.prompt({
    verificationUri: device.verification_uri,
    verificationUriComplete: device.verification_uri_complete,
    userCode: device.user_code,
    expiresInSeconds: device.expires_in,
  });
  const tokens = await client.pollDeviceAuthorizationGrant(config, device, undefined, {
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const login = toSavedLogin(auth.issuer, auth.cliClientId, tokens);
  await withCredentialsLock(options.stateDir, async () => {
    const credentials = readCredentials(options.stateDir);
    credentials.logins[options.server] = login;
    credentials.current = options.server;
    writeCredentials(options.stateDir, credentials);
  });
  return login;
}
