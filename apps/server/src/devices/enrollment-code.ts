import { createHash, randomBytes } from "node:crypto";
import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { base32 } from "../db/new-id.js";

/** How long an enrollment code stays valid. */
export const ENROLLMENT_CODE_TTL_MS = 15 * 60_000;

/** Normalizes a typed code (case, surrounding spaces) so that `ign-abcd…` and `IGN-ABCD…` are one code. */
function normalize(code: string): string {
  return code.trim().toUpperCase();
}

/** SHA-256 of the normalized code: 80 random bits that live 15 minutes need no slow hash. */
export function hashEnrollmentCode(code: string): string {
  return createHash("sha256").update(normalize(code)).digest("hex");
}

/** Issues a single-use code for `ownerId` (`IGN-` and four groups of four base32 characters, 80 bits). */
export async function createEnrollmentCode(
  db: Db,
  ownerId: string,
  now = new Date(),
): Promise<{ code: string; expiresAt: Date }> {
  const raw = base32(randomBytes(10)).toUpperCase();
  const code = `IGN-${raw.match(/.{4}/g)!.join("-")}`;
  const expiresAt = new Date(now.getTime() + ENROLLMENT_CODE_TTL_MS);
  await db
    .insertInto("enrollment_codes")
    .values({ code_hash: hashEnrollmentCode(code), owner_id: ownerId, expires_at: expiresAt })
    .execute();
  return { code, expiresAt };
}

/**
 * Spends a code for `deviceId` and returns its owner. Unknown, used and expired codes are refused with distinct
 * codes; the spend is one conditional UPDATE, so two enrollments racing on one code cannot both win.
 */
export async function consumeEnrollmentCode(
  db: Db,
  code: string,
  deviceId: string,
  now = new Date(),
): Promise<string> {
  const hash = hashEnrollmentCode(code);
  const row = await db
    .selectFrom("enrollment_codes")
    .select(["owner_id", "used_at", "expires_at"])
    .where("code_hash", "=", hash)
    .executeTakeFirst();
  if (!row) throw new IgnisError("invalid_enrollment_code", "the enrollment code is not valid");
  if (row.used_at) throw new IgnisError("enrollment_code_used", "the enrollment code has already been used");
  if (row.expires_at <= now) {
    throw new IgnisError("enrollment_code_expired", "the enrollment code has expired; create a new one");
  }
  const spent = await db
    .updateTable("enrollment_codes")
    .set({ used_at: now, device_id: deviceId })
    .where("code_hash", "=", hash)
    .where("used_at", "is", null)
    .executeTakeFirst();
  if (spent.numUpdatedRows === 0n) {
    throw new IgnisError("enrollment_code_used", "the enrollment code has already been used");
  }
  return row.owner_id;
}
