import { type ApiKeyScope, IgnisError, isIgnisError, Role } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { type Actor, ANONYMOUS, type UserActor } from "./actor.js";
import { API_KEY_PREFIX, authenticateApiKey } from "./api-keys.js";
import { MACHINE_CLIENT_PREFIX, machineClientUser } from "./oidc/machine-clients.js";
import type { TokenVerifier } from "./token-verifier.js";
import {
  bindInvitedUser,
  findUserById,
  findUserBySubject,
  insertUser,
  LOCAL_ISSUER,
  type User,
} from "./users.js";

/** Claim an external issuer may use to grant Ignis roles (in addition to roles an admin assigned). */
export const ROLES_CLAIM = "ignis_roles";

/** Turns an Authorization header into an actor, or throws a 401-class IgnisError for a bad credential. */
export async function authenticate(
  db: Db,
  verifier: TokenVerifier,
  authorization: string | undefined,
): Promise<Actor> {
  if (!authorization) return ANONYMOUS;
  const match = /^Bearer ([\x21-\x7e]{1,8192})$/.exec(authorization.trim());
  if (!match?.[1])
    throw new IgnisError("unauthenticated", "the Authorization header must be `Bearer <token>`");
  const credential = match[1];
  if (credential.startsWith(API_KEY_PREFIX)) {
    const key = await authenticateApiKey(db, credential);
    const user = await findUserById(db, key.userId);
    if (!user) throw new IgnisError("invalid_api_key", "the API key is not valid");
    refuseSuspended(user);
    return {
      kind: "user",
      userId: user.id,
      roles: user.roles,
      credential: {
        type: "api_key",
        id: key.keyId,
        scopes: key.scopes as ApiKeyScope[],
        expiresAt: key.expiresAt,
      },
      writesFrozen: user.writesFrozenAt !== null,
    };
  }
  const token = await verifier.verify(credential);
  const user = await resolveTokenUser(
    db,
    token.issuer,
    token.subject,
    token.email,
    token.claims[ROLES_CLAIM],
  );
  return user;
}

// A suspended user's every key and session is refused until an admin releases the alert that suspended them.
function refuseSuspended(user: User): void {
  if (user.suspendedAt) {
    throw new IgnisError("account_suspended", "this account is suspended pending a security review");
  }
}

async function resolveTokenUser(
  db: Db,
  issuer: string,
  subject: string,
  email: string | undefined,
  rolesClaim: unknown,
): Promise<UserActor> {
  let user = await findUserBySubject(db, issuer, subject);
  // A machine client's token (client-credentials grant) names the client; it acts as the user it was made for.
  if (!user && issuer === LOCAL_ISSUER && subject.startsWith(MACHINE_CLIENT_PREFIX)) {
    const userId = await machineClientUser(db, subject);
    user = userId ? await findUserById(db, userId) : undefined;
  }
  // Local accounts exist before their first token: a token for an unknown one (deleted since) is refused.
  if (!user && issuer === LOCAL_ISSUER)
    throw new IgnisError("invalid_token", "the access token is not valid");
  if (!user && email) user = await bindInvitedUser(db, issuer, subject, email);
  if (!user) {
    try {
      user = await insertUser(db, { issuer, subject, email: email ?? null, roles: [] });
    } catch (error) {
      // Two first requests of one new user race on the unique (issuer, subject) pair: read the winner's row.
      user = await findUserBySubject(db, issuer, subject);
      if (!user)
        throw isIgnisError(error)
          ? error
          : new IgnisError("unavailable", "could not record the user", { cause: error });
    }
  }
  refuseSuspended(user);
  const claimed = Array.isArray(rolesClaim) ? rolesClaim.filter((r) => Role.safeParse(r).success) : [];
  const roles = [...new Set([...user.roles, ...(claimed as Role[])])];
  return {
    kind: "user",
    userId: user.id,
    roles,
    credential: { type: "token", id: `tok:${subject}` },
    writesFrozen: user.writesFrozenAt !== null,
  };
}
