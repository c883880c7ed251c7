import { type ApiKeyScope, IgnisError } from "@ignis/protocol";
import type { UserActor } from "./actor.js";

/** What a caller asks a new key to allow. */
export interface MintRequest {
  scopes?: ApiKeyScope[] | undefined;
  expiresInDays?: number | undefined;
}

/** The scopes and expiry a new key will really have, once bounded by the credential that mints it. */
export interface MintGrant {
  scopes: ApiKeyScope[];
  expiresAt: Date | null;
}

const DAY_MS = 86_400_000;

/**
 * Bounds a new key by the minting credential, so no key can mint a stronger one. A signed-in session (an OIDC
 * token) is the user themselves and mints anything. An API key mints only keys whose scopes are a subset of
 * its own (an unscoped key or one holding `admin` covers every scope; an omitted or empty request inherits the
 * minter's scopes) and that expire no later than it does (an omitted expiry inherits the minter's).
 */
export function boundMintedKey(actor: UserActor, request: MintRequest, now = new Date()): MintGrant {
  const requested = [...new Set(request.scopes ?? [])];
  const asked = request.expiresInDays ? new Date(now.getTime() + request.expiresInDays * DAY_MS) : null;
  const credential = actor.credential;
  if (credential.type !== "api_key") return { scopes: requested, expiresAt: asked };
  const own = credential.scopes;
  const unbounded = own.length === 0 || own.includes("admin");
  let scopes = requested;
  if (!unbounded) {
    if (requested.length === 0) scopes = [...own];
    const beyond = scopes.filter((s) => !own.includes(s));
    if (beyond.length > 0) {
      throw new IgnisError("insufficient_scope", `this API key cannot grant ${beyond.join(", ")}`, {
        details: { refusedScopes: beyond },
      });
    }
  }
  const cap = credential.expiresAt;
  if (!cap) return { scopes, expiresAt: asked };
  if (asked && asked.getTime() > cap.getTime()) {
    throw new IgnisError("insufficient_scope", "a new key cannot outlive the API key that mints it", {
      details: { latestExpiry: cap.toISOString() },
    });
  }
  return { scopes, expiresAt: asked ?? cap };
}
