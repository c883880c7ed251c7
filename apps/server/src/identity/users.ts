import type { Role, UserView } from "@ignis/protocol";
import type { Selectable } from "kysely";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import type { IdentityTables } from "./tables.js";

/** The issuer name under which locally created accounts of the embedded provider live. */
export const LOCAL_ISSUER = "local";

/** A user row as the domain uses it. */
export interface User {
  id: string;
  issuer: string;
  subject: string;
  email: string | null;
  roles: Role[];
  writesFrozenAt: Date | null;
  /** Set while a security containment holds every credential of the user. */
  suspendedAt: Date | null;
  createdAt: Date;
}

const USER_COLUMNS = [
  "id",
  "issuer",
  "subject",
  "email",
  "roles",
  "writes_frozen_at",
  "suspended_at",
  "created_at",
] as const;
type UserRow = Pick<Selectable<IdentityTables["users"]>, (typeof USER_COLUMNS)[number]>;

function toUser(r: UserRow): User {
  return {
    id: r.id,
    issuer: r.issuer,
    subject: r.subject,
    email: r.email,
    roles: r.roles as Role[],
    writesFrozenAt: r.writes_frozen_at,
    suspendedAt: r.suspended_at,
    createdAt: r.created_at,
  };
}

/** Inserts a user; for local accounts the subject is the user id itself. */
export async function insertUser(
  db: Db,
  input: { issuer: string; subject?: string; email: string | null; roles: Role[] },
): Promise<User> {
  const id = newId("usr");
  const row = await db
    .insertInto("users")
    .values({
      id,
      issuer: input.issuer,
      subject: input.subject ?? id,
      email: input.email,
      roles: JSON.stringify([...new Set(input.roles)]),
    })
    .returning(USER_COLUMNS)
    .executeTakeFirstOrThrow();
  return toUser(row);
}

/** Finds a user by internal id. */
export async function findUserById(db: Db, id: string): Promise<User | undefined> {
  const r = await db.selectFrom("users").select(USER_COLUMNS).where("id", "=", id).executeTakeFirst();
  return r && toUser(r);
}

/** Finds a user by (issuer, subject), the identity an OIDC token carries. */
export async function findUserBySubject(db: Db, issuer: string, subject: string): Promise<User | undefined> {
  const r = await db
    .selectFrom("users")
    .select(USER_COLUMNS)
    .where("issuer", "=", issuer)
    .where("subject", "=", subject)
    .executeTakeFirst();
  return r && toUser(r);
}

/** Finds a local account by e-mail (case-insensitive). */
export async function findLocalUserByEmail(
  db: Db,
  email: string,
): Promise<(User & { passwordHash: string | null }) | undefined> {
  const r = await db
    .selectFrom("users")
    .select([...USER_COLUMNS, "password_hash"])
    .where("issuer", "=", LOCAL_ISSUER)
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", email.toLowerCase()))
    .executeTakeFirst();
  return r && { ...toUser(r), passwordHash: r.password_hash };
}

/** Lists users for admins, newest first, with keyset pagination on id. */
export async function listUsers(db: Db, limit: number, after?: string): Promise<User[]> {
  let q = db.selectFrom("users").select(USER_COLUMNS).orderBy("id").limit(limit);
  if (after) q = q.where("id", ">", after);
  return (await q.execute()).map(toUser);
}

/** Sets or clears the freeze on a user's writes (security containment). */
export async function setWritesFrozen(db: Db, userId: string, frozen: boolean): Promise<void> {
  await db
    .updateTable("users")
    .set({ writes_frozen_at: frozen ? new Date() : null })
    .where("id", "=", userId)
    .execute();
}

/** Suspends a user (every key and session) with a reason, or lifts it with `null`; false when no such user. */
export async function setUserSuspended(db: Db, userId: string, reason: string | null): Promise<boolean> {
  const r = await db
    .updateTable("users")
    .set({ suspended_at: reason ? new Date() : null, suspended_reason: reason })
    .where("id", "=", userId)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** The admin view of a user. */
export function toUserView(user: User, inviteUrl?: string): UserView {
  return {
    id: user.id,
    email: user.email,
    roles: user.roles,
    createdAt: user.createdAt.toISOString(),
    ...(inviteUrl ? { inviteUrl } : {}),
  };
}

/** Subject placeholder of a user an admin created for an external issuer, until their first sign-in. */
export function pendingSubject(email: string): string {
  return `email:${email.toLowerCase()}`;
}

/** Binds a user pre-created by e-mail to the real subject of the external issuer's first token for them. */
export async function bindInvitedUser(
  db: Db,
  issuer: string,
  subject: string,
  email: string,
): Promise<User | undefined> {
  const r = await db
    .updateTable("users")
    .set({ subject })
    .where("issuer", "=", issuer)
    .where("subject", "=", pendingSubject(email))
    .returning(USER_COLUMNS)
    .executeTakeFirst();
  return r && toUser(r);
}
