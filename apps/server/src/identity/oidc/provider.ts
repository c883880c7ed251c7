import { createHmac } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import { createLocalJWKSet } from "jose";
import Provider from "oidc-provider";
import type { Config } from "../../config.js";
import type { Db } from "../../db/database.js";
import { type EmbeddedOidc, isWebCallback } from "../embedded-oidc.js";
import { firstPartyClients, providerConfiguration } from "./configuration.js";
import { loadCookieKeys, loadSigningKeys } from "./data-dir-keys.js";
import { createFormCsrf } from "./form-csrf.js";
import { prepareLoginChecks } from "./local-accounts.js";
import { clientSecretMatches } from "./machine-clients.js";

/** Creates the embedded OpenID provider (oidc-provider) for the API audience, with keys from the data dir. */
export async function createEmbeddedOidc(options: {
  db: Db;
  config: Config;
  publicUrl: string;
  log: FastifyBaseLogger;
}): Promise<EmbeddedOidc> {
  const { db, config, publicUrl, log } = options;
  const { privateJwks, publicJwks } = await loadSigningKeys(config.dataDir);
  const cookieKeys = loadCookieKeys(config.dataDir);
  const issuer = `${publicUrl}/oidc`;
  const provider = new Provider(
    issuer,
    providerConfiguration({ db, config, publicUrl, privateJwks, cookieKeys }),
  );
  // We pass the public origin in X-Forwarded-* ourselves (http/routes/oidc.ts), so every URL it builds is public.
  provider.proxy = true;

  // The web UI may return to any path under its callback (deep links), not only the registered one.
  const exactOnly = provider.Client.prototype.redirectUriAllowed;
  provider.Client.prototype.redirectUriAllowed = function (this: { clientId: string }, value: string) {
    if (this.clientId === config.oidc.webClientId && isWebCallback(value, publicUrl)) return true;
    return exactOnly.call(this, value);
  };

  // Machine clients' rows hold only a digest of their secret (machine-clients.ts); the provider's own check
  // compares the stored value with what was presented as plain strings.
  provider.Client.prototype.compareClientSecret = function (
    this: { clientSecret?: string },
    presented: string,
  ): boolean {
    return clientSecretMatches(this.clientSecret, presented);
  };

  provider.on("server_error", (_ctx, error) => log.error({ err: error }, "oidc provider error"));
  for (const event of ["grant.error", "revocation.error", "end_session.error"]) {
    provider.on(event, (_ctx, error) =>
      log.info({ event, reason: (error as Error).message }, "oidc request refused"),
    );
  }

  prepareLoginChecks();
  const firstKey = cookieKeys[0] ?? "";
  return {
    issuer,
    keys: createLocalJWKSet(publicJwks),
    provider,
    csrf: createFormCsrf(createHmac("sha256", firstKey).update("ignis form csrf").digest()),
    firstPartyClients: new Map(firstPartyClients(config, publicUrl).map((c) => [c.client_id, c.client_name])),
  };
}
