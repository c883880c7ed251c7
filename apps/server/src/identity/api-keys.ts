import { createHash, randomBytes } from "node:crypto";
import { type ApiKeyScope, IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";

/** Every Ignis API key starts with this, so scanners and people recognise a leaked one. */
export const API_KEY_PREFIX = "ign_";

/** SHA-256 of a key: a 256-bit random key needs no slow hash, and lookups stay O(1). */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** A freshly issued API key: the plaintext is returned here once and never stored. */
export interface IssuedApiKey {
  id: string;
  key: string;
  name: string;
  scopes: ApiKeyScope[];
  expiresAt: Date | null;
}

/** Issues a new 256-bit key for a user and stores only its hash. */
export async function issueApiKey(
  db: Db,
  input: {
    userId: string;
    name: string;
    scopes?: ApiKeyScope[] | undefined;
    expiresInDays?: number | undefined;
    /** An absolute expiry; wins over `expiresInDays` (a key bounded by the key that minted it). */
    expiresAt?: Date | null | undefined;
  },
): Promise<IssuedApiKey> {
  const id = newId("key");
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  const scopes = [...new Set(input.scopes ?? [])];
  const expiresAt =
    input.expiresAt !== undefined
      ? input.expiresAt
      : input.expiresInDays
        ? new Date(Date.now() + input.expiresInDays * 86_400_000)
        : null;
  await db
    .insertInto("api_keys")
    .values({
      id,
      user_id: input.userId,
      name: input.name,
      key_hash: hashApiKey(key),
      scopes: JSON.stringify(scopes),
      expires_at: expiresAt,
    })
    .execute();
  return { id, key, name: input.name, scopes, expiresAt };
}

/** The owner and limits of a valid key. */
export interface ApiKeyIdentity {
  keyId: string;
  userId: string;
  scopes: ApiKeyScope[];
  expiresAt: Date | null;
}

/** Resolves a presented key, refusing unknown, revoked, suspended and expired ones with distinct codes. */
export async function authenticateApiKey(db: Db, key: string, now = new Date()): Promise<ApiKeyIdentity> {
  if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) {
    throw new IgnisError("invalid_api_key", "the API key is not valid");
  }
  const row = await db
    .selectFrom("api_keys")
    .select(["id", "user_id", "scopes", "expires_at", "revoked_at", "suspended_at", "last_used_at"])
    .where("key_hash", "=", hashApiKey(key))
    .executeTakeFirst();
  if (!row) throw new IgnisError("invalid_api_key", "the API key is not valid");
  if (row.revoked_at) throw new IgnisError("api_key_revoked", "the API key has been revoked");
  if (row.suspended_at) {
    throw new IgnisError("api_key_suspended", "the API key is suspended pending an admin review");
  }
  if (row.expires_at && row.expires_at <= now)
    throw new IgnisError("api_key_expired", "the API key has expired");
  // Last-used time is coarse (one write a minute at most) so a busy key does not write on every request.
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000) {
    await db.updateTable("api_keys").set({ last_used_at: now }).where("id", "=", row.id).execute();
  }
  return {
    keyId: row.id,
    userId: row.user_id,
    scopes: row.scopes as ApiKeyScope[],
    expiresAt: row.expires_at,
  };
}

/** Lists a user's keys (never the keys themselves). */
export async function listApiKeys(db: Db, userId: string) {
  return db
    .selectFrom("api_keys")
    .select([
      "id",
      "name",
      "scopes",
      "created_at",
      "expires_at",
      "last_used_at",
      "revoked_at",
      "suspended_at",
    ])
    .where("user_id", "=", userId)
    .orderBy("created_at", "desc")
    .execute();
}

/** Revokes a key of the given owner; returns false when the owner has no such key. */
export async function revokeApiKey(db: Db, userId: string, keyId: string): Promise<boolean> {
  const r = await db
    .updateTable("api_keys")
    .set({ revoked_at: new Date() })
    .where("id", "=", keyId)
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Suspends a key until an admin releases it (automatic containment). */
export async function setApiKeySuspended(db: Db, keyId: string, reason: string | null): Promise<boolean> {
  const r = await db
    .updateTable("api_keys")
    .set({ suspended_at: reason ? new Date() : null, suspended_reason: reason })
    .where("id", "=", keyId)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}
