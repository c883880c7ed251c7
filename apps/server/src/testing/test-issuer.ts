import { randomUUID } from "node:crypto";
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { createTokenVerifier, type TokenVerifier } from "../identity/token-verifier.js";

/** A stand-in OIDC issuer for tests: its own key pair, minting access tokens for the API audience. */
export interface TestIssuer {
  issuer: string;
  audience: string;
  publicJwk: JWK;
  verifier: TokenVerifier;
  /** Mints an RS256 access token; `claims` may override anything (exp, iss, aud...). */
  token(subject: string, claims?: JWTPayload): Promise<string>;
}

/** Creates a stand-in issuer whose verifier goes through the production jose path. */
export async function createTestIssuer(
  issuer = "https://issuer.test",
  audience = "ignis-api",
): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "RS256" };
  const verifier = createTokenVerifier({ issuer, audience, keys: createLocalJWKSet({ keys: [publicJwk] }) });
  return {
    issuer,
    audience,
    publicJwk,
    verifier,
    async token(subject, claims = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: issuer,
        aud: audience,
        sub: subject,
        iat: now,
        exp: now + 300,
        jti: randomUUID(),
        ...claims,
      })
        .setProtectedHeader({ alg: "RS256", kid: "test-key" })
        .sign(privateKey);
    },
  };
}
