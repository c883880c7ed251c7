import type { Verification } from "@ignis/protocol";
import type { Db } from "../db/database.js";

export type { Verification };

/**
 * Sets a device's proof-of-GPU verification state (called by the proof module). `verified` stamps
 * `verified_at`; any other state clears it. Returns false for an unknown or revoked device.
 */
export async function setVerification(db: Db, deviceId: string, state: Verification): Promise<boolean> {
  const result = await db
    .updateTable("devices")
    .set({ verification: state, verified_at: state === "verified" ? new Date() : null })
    .where("id", "=", deviceId)
    .where("status", "!=", "revoked")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
