import type { JWK } from "jose";
import { type Configuration, errors, type KoaContextWithOIDC } from "oidc-provider";
import type { Config } from "../../config.js";
import type { Db } from "../../db/database.js";
import { API_SCOPE, WEB_CALLBACK_PATH } from "../embedded-oidc.js";
import { findUserById } from "../users.js";
import { findLocalAccount } from "./local-accounts.js";
import { MACHINE_CLIENT_PREFIX, MACHINE_USER_FIELD } from "./machine-clients.js";
import {
  deviceCodeConfirmPage,
  deviceCodeInputPage,
  deviceSuccessPage,
  errorPage,
  loggedOutPage,
  logoutPage,
} from "./pages/sign-in-pages.js";
import { createPayloadAdapter } from "./payload-adapter.js";

/** Lifetime of API access tokens: short, because a JWT cannot be revoked before it expires. */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
const DAY = 86_400;

/** The resource indicator (RFC 8707) naming the Ignis API: the audience itself when it is a URI. */
export function apiResourceIndicator(audience: string, publicUrl: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(audience) && URL.canParse(audience) ? audience : `${publicUrl}/v1`;
}

/** Our two public clients: the web UI (code + PKCE) and the CLI (device code, refresh tokens). */
export function firstPartyClients(config: Config, publicUrl: string) {
  return [
    {
      client_id: config.oidc.webClientId,
      client_name: "the Ignis web app",
      application_type: "web",
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: [`${publicUrl}${WEB_CALLBACK_PATH}`],
      post_logout_redirect_uris: [`${publicUrl}/`],
    },
    {
      client_id: config.oidc.cliClientId,
      client_name: "the Ignis CLI",
      application_type: "native",
      token_endpoint_auth_method: "none",
      grant_types: ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
      response_types: [],
      redirect_uris: [],
    },
  ];
}

function clientName(ctx: KoaContextWithOIDC): string {
  return ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId ?? "an application";
}

function deviceInputError(err: (Error & { userCode?: string }) | undefined): string | undefined {
  if (!err) return undefined;
  if (err.userCode || err.name === "NoCodeError") return "That code is not valid. Check it and try again.";
  if (err.name === "AbortedError") return "Sign-in was cancelled. Start again from your terminal.";
  return "Something went wrong. Start again from your terminal.";
}

/** Builds oidc-provider's configuration: clients, storage, keys, features, lifetimes and our pages. */
export function providerConfiguration(deps: {
  db: Db;
  config: Config;
  publicUrl: string;
  privateJwks: { keys: JWK[] };
  cookieKeys: string[];
}): Configuration {
  const { db, config, publicUrl } = deps;
  const resource = apiResourceIndicator(config.oidc.audience, publicUrl);
  const publicOrigin = new URL(publicUrl).origin;
  return {
    adapter: createPayloadAdapter(db),
    clients: firstPartyClients(config, publicUrl),
    jwks: deps.privateJwks,
    cookies: { keys: deps.cookieKeys },
    findAccount: (_ctx: unknown, sub: string) => findLocalAccount(db, sub),
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    scopes: ["openid", "offline_access", "email"],
    responseTypes: ["code"],
    // Our two apps are public clients (PKCE / device code); machine clients (machine-clients.ts) have secrets.
    clientAuthMethods: ["none", "client_secret_basic", "client_secret_post"],
    extraClientMetadata: { properties: [MACHINE_USER_FIELD] },
    pkce: { required: () => true },
    clientBasedCORS: (_ctx: unknown, origin: string) => origin === publicOrigin,
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `${publicUrl}/interaction/${interaction.uid}`,
    },
    extraTokenClaims: async (_ctx: unknown, token: { kind: string; accountId?: string }) => {
      if (token.kind !== "AccessToken" || !token.accountId) return undefined;
      const user = await findUserById(db, token.accountId);
      return user?.email ? { email: user.email } : undefined;
    },
    features: {
      devInteractions: { enabled: false },
      // For tokens of an `openid` sign-in without the API scope: API tokens are for the API, not for userinfo.
      userinfo: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Resource servers authenticate as machine clients; public clients (our apps) may not introspect.
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }) =>
          client.clientId.startsWith(MACHINE_CLIENT_PREFIX),
      },
      revocation: {
        enabled: true,
        // A client may revoke only its own tokens; for a public client a foreign token is silently ignored.
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
          token.clientId === client.clientId,
      },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: async (ctx: KoaContextWithOIDC, form: string, _out: unknown, err?: Error) => {
          ctx.type = "html";
          ctx.body = deviceCodeInputPage(form, deviceInputError(err));
        },
        userCodeConfirmSource: async (
          ctx: KoaContextWithOIDC,
          form: string,
          _client: unknown,
          _info: unknown,
          userCode: string,
        ) => {
          ctx.type = "html";
          ctx.body = deviceCodeConfirmPage(form, clientName(ctx), userCode);
        },
        successSource: async (ctx: KoaContextWithOIDC) => {
          ctx.type = "html";
          ctx.body = deviceSuccessPage(clientName(ctx));
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.type = "html";
          ctx.body = logoutPage(form);
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.type = "html";
          ctx.body = loggedOutPage();
        },
      },
      resourceIndicators: {
        enabled: true,
        // A JWT for the API when the API scope is asked for; otherwise an opaque token (userinfo, introspection).
        defaultResource: async (ctx: KoaContextWithOIDC) => {
          const scope = String((ctx.oidc.params as { scope?: unknown } | undefined)?.scope ?? "");
          return scope.split(" ").includes(API_SCOPE) ? resource : undefined;
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          if (indicator !== resource) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPE,
            audience: config.oidc.audience,
            accessTokenFormat: "jwt",
            accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
            jwt: { sign: { alg: "RS256" } },
          };
        },
      },
    },
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL_SECONDS,
      ClientCredentials: ACCESS_TOKEN_TTL_SECONDS,
      AuthorizationCode: 60,
      DeviceCode: 10 * 60,
      IdToken: 60 * 60,
      Interaction: 30 * 60,
      RefreshToken: 14 * DAY,
      Session: 14 * DAY,
      Grant: 30 * DAY,
    },
    renderError: async (ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }) => {
      ctx.type = "html";
      ctx.body = errorPage(
        "Sign-in failed",
        out.error_description ?? out.error ?? "The request could not be completed. Start again.",
      );
    },
  };
}
