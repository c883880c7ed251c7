import type { JWTVerifyGetKey } from "jose";
import type { App } from "../http/app.js";
import type { AppContext } from "../http/context.js";

/** The embedded OpenID provider mounted under /oidc (oidc-provider), with our own login pages. */
export interface EmbeddedOidc {
  /** The issuer URL, `${publicUrl}/oidc`. */
  issuer: string;
  /** Public signing keys, for the same jose verification path external issuers go through. */
  keys: JWTVerifyGetKey;
  /** Mounts the provider and its interaction pages on the app. */
  mount(app: App, ctx: AppContext): void;
}
