import type { JWTVerifyGetKey } from "jose";
import type Provider from "oidc-provider";
import type { FormCsrf } from "./oidc/form-csrf.js";

/** Path of the web UI's redirect URI; sub-paths of it are allowed too. */
export const WEB_CALLBACK_PATH = "/auth/callback";

/** Scope of the Ignis API on access tokens the embedded provider issues. */
export const API_SCOPE = "api";

/** The embedded OpenID provider mounted under /oidc (oidc-provider), with our own sign-in pages. */
export interface EmbeddedOidc {
  /** The issuer URL, `${publicUrl}/oidc`. */
  issuer: string;
  /** Public signing keys, for the same jose verification path external issuers go through. */
  keys: JWTVerifyGetKey;
  /** The oidc-provider instance; http/routes/oidc.ts mounts it and drives its interactions. */
  provider: Provider;
  /** CSRF tokens for the sign-in and invitation forms. */
  csrf: FormCsrf;
  /** Our own clients (web UI and CLI): consent to them is implied by signing in. */
  firstPartyClients: ReadonlyMap<string, string>;
}

/** True when `url` is the web UI's callback under `publicUrl`, or a path below it, without a fragment. */
export function isWebCallback(url: string, publicUrl: string): boolean {
  if (!URL.canParse(url) || url.includes("#")) return false;
  const parsed = new URL(url);
  const base = new URL(publicUrl);
  const basePath = `${base.pathname.replace(/\/$/, "")}${WEB_CALLBACK_PATH}`;
  return (
    parsed.origin === base.origin &&
    !parsed.username &&
    !parsed.password &&
    (parsed.pathname === basePath || parsed.pathname.startsWith(`${basePath}/`))
  );
}
