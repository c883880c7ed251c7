import type { Db } from "../db/database.js";
import type { DeviceStatus } from "./status.js";

/** Statuses in which a device may receive a customer's job (and its secrets). */
const GOOD_STANDING: readonly DeviceStatus[] = ["online", "hired"];

/**
 * True when the device is in good standing for a customer's secrets: connected and not in conflict, quarantine
 * or revocation, and its GPU proof current (`verified`; a changed hardware claim resets it until a fresh proof).
 */
export async function inGoodStanding(db: Db, deviceId: string): Promise<boolean> {
  const row = await db
    .selectFrom("devices")
    .select(["status", "verification"])
    .where("id", "=", deviceId)
    .executeTakeFirst();
  return !!row && GOOD_STANDING.includes(row.status) && row.verification === "verified";
}
