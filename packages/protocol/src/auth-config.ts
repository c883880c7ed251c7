import { z } from "zod";

/** `GET /v1/auth/config`: what a client needs to sign users in (issuer, audience and our client ids). */
export const AuthConfig = z.object({
  /** The OpenID issuer to discover (`${issuer}/.well-known/openid-configuration`). */
  issuer: z.string(),
  /** The audience of Ignis API access tokens. */
  audience: z.string(),
  /** True when the server runs its own embedded provider (local accounts, invitations). */
  embedded: z.boolean(),
  /** Public client of `ignis login` (device authorization grant). */
  cliClientId: z.string(),
  /** Public client of the web UI (authorization code with PKCE S256). */
  webClientId: z.string(),
  /** The web UI's registered redirect URI (paths below it are accepted too by the embedded provider). */
  webRedirectUri: z.string(),
  /** Scopes to request: the API scope, plus offline_access for refresh tokens. */
  scopes: z.array(z.string()),
});
/** Sign-in settings a client discovers from the server. */
export type AuthConfig = z.infer<typeof AuthConfig>;
