import { z } from "zod";
import { ApiKeyId, Timestamp, UserId } from "./common.js";

/** The roles a user may hold; a user may hold several. */
export const Role = z.enum(["supplier", "customer", "admin"]);
/** A user role. */
export type Role = z.infer<typeof Role>;

/**
 * Scopes an API key may be limited to; an empty list means every scope of its owner's roles. `keys:write`
 * mints and revokes keys; `admin` covers every other scope.
 */
export const ApiKeyScope = z.enum([
  "devices:read",
  "devices:write",
  "clusters:read",
  "clusters:write",
  "rewards:read",
  "keys:write",
  "admin",
]);
/** One API key scope. */
export type ApiKeyScope = z.infer<typeof ApiKeyScope>;

/** Body of `POST /v1/admin/users`. */
export const CreateUserBody = z.strictObject({
  email: z.email().max(254),
  roles: z.array(Role).min(1).max(3),
});

/** A user as admins see it. */
export const UserView = z.object({
  id: UserId,
  email: z.string().nullable(),
  roles: z.array(Role),
  createdAt: Timestamp,
  inviteUrl: z.string().optional(),
});
/** A user as admins see it. */
export type UserView = z.infer<typeof UserView>;

/** Body of the API-key creation routes. */
export const CreateApiKeyBody = z.strictObject({
  name: z.string().trim().min(1).max(80),
  scopes: z.array(ApiKeyScope).max(ApiKeyScope.options.length).optional(),
  expiresInDays: z.number().int().min(1).max(365).optional(),
});

/** Response of API-key creation: the key is shown exactly once. */
export const CreatedApiKey = z.object({
  id: ApiKeyId,
  key: z.string(),
  name: z.string(),
  scopes: z.array(ApiKeyScope),
  expiresAt: Timestamp.nullable(),
});

/** An API key as listed to its owner: never the key itself. */
export const ApiKeyView = z.object({
  id: ApiKeyId,
  name: z.string(),
  scopes: z.array(ApiKeyScope),
  createdAt: Timestamp,
  expiresAt: Timestamp.nullable(),
  lastUsedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
  suspendedAt: Timestamp.nullable(),
});
/** An API key as listed to its owner. */
export type ApiKeyView = z.infer<typeof ApiKeyView>;

/** Who the caller is, as `GET /v1/me` answers. */
export const WhoAmI = z.object({
  id: UserId,
  email: z.string().nullable(),
  roles: z.array(Role),
  credential: z.enum(["api_key", "token"]),
});

/** Body of `PATCH /v1/admin/users/{userId}`. */
export const UpdateUserBody = z.strictObject({
  roles: z.array(Role).max(3).optional(),
  writesFrozen: z.boolean().optional(),
});
