import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyBaseLogger } from "fastify";
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK } from "jose";
import type { Config } from "../../config.js";
import type { Db } from "../../db/database.js";
import type { EmbeddedOidc } from "../embedded-oidc.js";

/** Loads the provider's RS256 signing key from the data dir, creating it (mode 0600) on first start. */
export async function loadSigningKeys(
  dataDir: string,
): Promise<{ privateJwks: { keys: JWK[] }; publicJwks: { keys: JWK[] } }> {
  const dir = join(dataDir, "oidc");
  const path = join(dir, "signing-keys.json");
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = {
      ...(await exportJWK(privateKey)),
      alg: "RS256",
      use: "sig",
      kid: `k${Date.now().toString(36)}`,
    };
    writeFileSync(path, JSON.stringify({ keys: [jwk] }), { mode: 0o600 });
  }
  const privateJwks = JSON.parse(readFileSync(path, "utf8")) as { keys: JWK[] };
  const publicJwks = {
    keys: privateJwks.keys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub),
  };
  return { privateJwks, publicJwks };
}

/** Creates the embedded OpenID provider (oidc-provider) for the API audience. */
export async function createEmbeddedOidc(options: {
  db: Db;
  config: Config;
  publicUrl: string;
  log: FastifyBaseLogger;
}): Promise<EmbeddedOidc> {
  const { publicJwks } = await loadSigningKeys(options.config.dataDir);
  return {
    issuer: `${options.publicUrl}/oidc`,
    keys: createLocalJWKSet(publicJwks),
    mount() {},
  };
}
