import { IgnisError } from "@ignis/protocol";
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";

/** Only asymmetric algorithms: `none` and HMAC (the public-key-as-secret confusion) can never verify. */
export const ALLOWED_JWT_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"] as const;

class SenderConstrained extends Error {}

/** The identity an access token carries once verified. */
export interface VerifiedToken {
  /** Where the subject lives: the issuer URL, or LOCAL_ISSUER for the embedded provider's accounts. */
  issuer: string;
  subject: string;
  tokenId: string;
  email: string | undefined;
  claims: JWTPayload;
}

/** Verifies OIDC access tokens (JWT) for the Ignis API audience. */
export interface TokenVerifier {
  readonly issuer: string;
  verify(token: string): Promise<VerifiedToken>;
}

/** Builds a verifier for an issuer, with keys from a getter (embedded provider) or the issuer's JWKS URL. */
export function createTokenVerifier(options: {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
  /** The issuer name users of this issuer are stored under, when not the URL (the embedded provider's "local"). */
  accountIssuer?: string;
}): TokenVerifier {
  return {
    issuer: options.issuer,
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, options.keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: [...ALLOWED_JWT_ALGORITHMS],
          requiredClaims: ["sub", "exp", "iss", "aud"],
          clockTolerance: 5,
        });
        // A sender-constrained token (DPoP, RFC 9449 `cnf.jkt`; mTLS `cnf.x5t#S256`) is only good with proof of
        // its key, which a Bearer request does not carry: presented as Bearer it is a stolen token, refused.
        if (payload.cnf !== undefined) throw new SenderConstrained();
        return {
          issuer: options.accountIssuer ?? options.issuer,
          subject: String(payload.sub),
          tokenId: typeof payload.jti === "string" ? payload.jti : `sub:${payload.sub}:${payload.iat ?? 0}`,
          email: typeof payload.email === "string" ? payload.email : undefined,
          claims: payload,
        };
      } catch (error) {
        if (error instanceof SenderConstrained)
          throw new IgnisError(
            "invalid_token",
            "a sender-constrained (DPoP) token cannot be used as a Bearer token",
          );
        if (error instanceof errors.JWTExpired)
          throw new IgnisError("token_expired", "the access token has expired");
        throw new IgnisError("invalid_token", "the access token is not valid", { cause: error });
      }
    },
  };
}

/** Keys for an external issuer, found through its discovery document and cached by jose. */
export function discoveredJwks(issuer: string): JWTVerifyGetKey {
  let remote: JWTVerifyGetKey | undefined;
  return async (header, token) => {
    if (!remote) {
      const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (!response.ok)
        throw new IgnisError("unavailable", "the identity provider's discovery document is unavailable");
      const doc = (await response.json()) as { jwks_uri?: string };
      if (!doc.jwks_uri) throw new IgnisError("unavailable", "the identity provider publishes no jwks_uri");
      remote = createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    }
    return remote(header, token);
  };
}
