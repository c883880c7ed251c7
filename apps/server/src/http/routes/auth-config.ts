import { AuthConfig } from "@ignis/protocol";
import { API_SCOPE, WEB_CALLBACK_PATH } from "../../identity/embedded-oidc.js";
import type { App } from "../app.js";
import type { AppContext } from "../context.js";

/** `GET /v1/auth/config`: the issuer, audience and client ids the CLI and web UI sign in with. */
export function authConfigRoutes(app: App, ctx: AppContext): void {
  const { oidc } = ctx.config;
  const body: AuthConfig = {
    issuer: ctx.oidc?.issuer ?? oidc.issuer ?? "",
    audience: oidc.audience,
    embedded: oidc.embedded,
    cliClientId: oidc.cliClientId,
    webClientId: oidc.webClientId,
    webRedirectUri: `${ctx.publicUrl}${WEB_CALLBACK_PATH}`,
    // An external IdP names API permissions its own way; there the audience alone selects the API.
    scopes: ["openid", "email", "offline_access", ...(oidc.embedded ? [API_SCOPE] : [])],
  };
  app.get(
    "/v1/auth/config",
    {
      config: { meta: { access: "public" } },
      schema: {
        summary: "How to sign in: the issuer, audience and the CLI's client",
        tags: ["identity"],
        response: { 200: AuthConfig },
      },
    },
    async () => body,
  );
}
