import { randomBytes } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK } from "jose";

/** The provider's private and public signing keys. */
export interface SigningKeys {
  privateJwks: { keys: JWK[] };
  publicJwks: { keys: JWK[] };
}

/**
 * Writes a file only if it does not exist yet, atomically: two replicas starting at once over one data volume
 * both end up reading the same winner instead of each signing with a key the other does not know.
 */
function createOnce(path: string, make: () => string): void {
  if (existsSync(path)) return;
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(temp, make(), { mode: 0o600 });
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(temp);
  }
}

function oidcDir(dataDir: string): string {
  const dir = join(dataDir, "oidc");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Loads the provider's RS256 signing key from the data dir, creating it (mode 0600) on first start. */
export async function loadSigningKeys(dataDir: string): Promise<SigningKeys> {
  const path = join(oidcDir(dataDir), "signing-keys.json");
  if (!existsSync(path)) {
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = {
      ...(await exportJWK(privateKey)),
      alg: "RS256",
      use: "sig",
      kid: `k${Date.now().toString(36)}`,
    };
    createOnce(path, () => JSON.stringify({ keys: [jwk] }));
  }
  const privateJwks = JSON.parse(readFileSync(path, "utf8")) as { keys: JWK[] };
  const publicJwks = {
    keys: privateJwks.keys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub),
  };
  return { privateJwks, publicJwks };
}

/**
 * Loads the secrets that sign the provider's cookies and our form CSRF tokens, creating them on first start.
 * The first key signs; later ones (added by an operator rotating) still verify.
 */
export function loadCookieKeys(dataDir: string): string[] {
  const path = join(oidcDir(dataDir), "cookie-keys.json");
  createOnce(path, () => JSON.stringify({ keys: [randomBytes(32).toString("base64url")] }));
  const { keys } = JSON.parse(readFileSync(path, "utf8")) as { keys: string[] };
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== "string" || k.length < 32))
    throw new Error(`${path} must hold { "keys": [at least one secret of 32+ characters] }`);
  return keys;
}
