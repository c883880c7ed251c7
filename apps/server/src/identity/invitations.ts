import { createHash, randomBytes } from "node:crypto";
import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";

/** How long an invitation link stays usable. */
export const INVITATION_TTL_MS = 7 * 86_400_000;

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Creates a one-time invitation for a local account; returns the token to embed in the link. */
export async function createInvitation(db: Db, userId: string, now = new Date()): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  await db
    .insertInto("invitations")
    .values({
      token_hash: hashToken(token),
      user_id: userId,
      expires_at: new Date(now.getTime() + INVITATION_TTL_MS),
    })
    .execute();
  return token;
}

/** The link where the invited user sets a password. */
export function invitationUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/invite/${token}`;
}

/** Consumes an invitation exactly once and returns its user id; a reused or expired token is refused. */
export async function consumeInvitation(db: Db, token: string, now = new Date()): Promise<string> {
  const row = await db
    .updateTable("invitations")
    .set({ used_at: now })
    .where("token_hash", "=", hashToken(token))
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .returning("user_id")
    .executeTakeFirst();
  if (!row) throw new IgnisError("not_found", "this invitation link is not valid, already used or expired");
  return row.user_id;
}

/** Checks an invitation without consuming it (to render the set-password page). */
export async function invitationIsValid(db: Db, token: string, now = new Date()): Promise<boolean> {
  const row = await db
    .selectFrom("invitations")
    .select("user_id")
    .where("token_hash", "=", hashToken(token))
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return row !== undefined;
}

/** The user a still-valid invitation is for, without consuming it (to greet them on the set-password page). */
export async function invitedUserId(db: Db, token: string, now = new Date()): Promise<string | undefined> {
  const row = await db
    .selectFrom("invitations")
    .select("user_id")
    .where("token_hash", "=", hashToken(token))
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return row?.user_id;
}
