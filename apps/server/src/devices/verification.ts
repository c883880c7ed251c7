import type { Verification } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";

export type { Verification };

/**
 * Sets a device's proof-of-GPU verification state (called by the proof module after every decided check).
 * `verified_at` is when the device became verified: stamped on the change to `verified`, kept while it stays
 * verified (the pending period counts from it), cleared by any other state. `proven_at` is the last decision
 * that left it verified, which only a pass does: it is kept through later failures, so uptime rewards can ask
 * for a pass within their window (rewards/epoch-shares.ts). Returns false for an unknown or revoked device.
 */
export async function setVerification(db: Db, deviceId: string, state: Verification): Promise<boolean> {
  const now = new Date();
  const result = await db
    .updateTable("devices")
    .set({
      verification: state,
      verified_at:
        state === "verified"
          ? sql<Date>`case when verification = 'verified' and verified_at is not null then verified_at else ${now} end`
          : null,
      ...(state === "verified" ? { proven_at: now } : {}),
    })
    .where("id", "=", deviceId)
    .where("status", "!=", "revoked")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
