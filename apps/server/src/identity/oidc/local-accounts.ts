import { randomBytes } from "node:crypto";
import { IgnisError } from "@ignis/protocol";
import argon2 from "argon2";
import type { Account } from "oidc-provider";
import type { Db } from "../../db/database.js";
import { inTransaction } from "../../db/in-transaction.js";
import { consumeInvitation } from "../invitations.js";
import { findLocalUserByEmail, findUserById, LOCAL_ISSUER, type User } from "../users.js";

/** Shortest password an invited user may choose. */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest accepted password; bounds the hashing work one request can cause. */
export const MAX_PASSWORD_LENGTH = 1024;

// OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): about 65 ms a check on the 2-core dev machine, cheap
// enough that sign-in attempts (rate-limited) are no DoS lever.
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Hashes a password with argon2id. */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

let decoyHash: Promise<string> | undefined;

/** Computes the decoy hash ahead of the first sign-in, so even that one answers unknown e-mails in usual time. */
export function prepareLoginChecks(): void {
  decoyHash ??= hashPassword(randomBytes(16).toString("hex"));
}

/**
 * Checks an e-mail and password against the local accounts. An unknown e-mail, an account without a password
 * and a wrong password all answer `undefined` after one argon2 verification, so timing tells them apart no
 * better than the message does.
 */
export async function verifyLocalLogin(db: Db, email: string, password: string): Promise<User | undefined> {
  const candidate = password.length <= MAX_PASSWORD_LENGTH ? password : "";
  const user = email.length <= 320 ? await findLocalUserByEmail(db, email.trim()) : undefined;
  prepareLoginChecks();
  const hash = user?.passwordHash ?? (await decoyHash!);
  let ok = false;
  try {
    ok = await argon2.verify(hash, candidate);
  } catch {
    ok = false;
  }
  if (!ok || !user?.passwordHash || candidate === "") return undefined;
  const { passwordHash: _hash, ...rest } = user;
  return rest;
}

/** Refuses passwords the invite page must not accept, with a message safe to show. */
export function checkNewPassword(password: string, confirmation: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new IgnisError(
      "validation_failed",
      `the password needs at least ${MIN_PASSWORD_LENGTH} characters`,
    );
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new IgnisError(
      "validation_failed",
      `the password may have at most ${MAX_PASSWORD_LENGTH} characters`,
    );
  if (password !== confirmation) throw new IgnisError("validation_failed", "the two passwords differ");
}

/**
 * Sets a local account's password through its one-time invitation: the invitation is consumed and the hash
 * stored in one transaction, so a link works exactly once. Returns the user id.
 */
export async function setPasswordWithInvitation(
  db: Db,
  token: string,
  password: string,
  confirmation: string,
): Promise<string> {
  checkNewPassword(password, confirmation);
  const hash = await hashPassword(password);
  return inTransaction(db, async (trx) => {
    const userId = await consumeInvitation(trx, token);
    await trx
      .updateTable("users")
      .set({ password_hash: hash })
      .where("id", "=", userId)
      .where("issuer", "=", LOCAL_ISSUER)
      .execute();
    return userId;
  });
}

/** oidc-provider's account lookup: local accounts only, the subject being the internal user id. */
export async function findLocalAccount(db: Db, id: string): Promise<Account | undefined> {
  const user = await findUserById(db, id);
  if (!user || user.issuer !== LOCAL_ISSUER) return undefined;
  return {
    accountId: user.id,
    async claims() {
      return { sub: user.id, ...(user.email ? { email: user.email, email_verified: true } : {}) };
    },
  };
}
