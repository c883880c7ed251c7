import { IgnisError, type Role } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { inTransaction } from "../db/in-transaction.js";
import { createInvitation, invitationUrl } from "./invitations.js";
import { insertUser, LOCAL_ISSUER, pendingSubject, type User } from "./users.js";

/** Where users live: local accounts of the embedded provider, or an external issuer's subjects. */
export interface UserDirectory {
  embedded: boolean;
  issuer: string;
  publicUrl: string;
}

/**
 * Creates a user. With the embedded provider the account is local and an invitation link is returned; with an
 * external issuer the user is bound to their subject on first sign-in with a token carrying this e-mail.
 */
export async function createUser(
  db: Db,
  directory: UserDirectory,
  input: { email: string; roles: Role[] },
): Promise<{ user: User; inviteUrl?: string }> {
  const email = input.email.toLowerCase();
  const issuer = directory.embedded ? LOCAL_ISSUER : directory.issuer;
  const existing = await db
    .selectFrom("users")
    .select("id")
    .where("issuer", "=", issuer)
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", email))
    .executeTakeFirst();
  if (existing) throw new IgnisError("conflict", "a user with this e-mail already exists");
  return inTransaction(db, async (trx) => {
    const user = await insertUser(trx, {
      issuer,
      ...(directory.embedded ? {} : { subject: pendingSubject(email) }),
      email,
      roles: input.roles,
    });
    if (!directory.embedded) return { user };
    const token = await createInvitation(trx, user.id);
    return { user, inviteUrl: invitationUrl(directory.publicUrl, token) };
  });
}
