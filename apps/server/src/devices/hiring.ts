import type { Db } from "../db/database.js";

/**
 * What the marketplace may change on devices: hire free ones, return them to the pool, and set the supplier's
 * asking price. Status moves follow the state machine (status.ts): online → hired → online.
 */

/**
 * Hires devices inside the caller's transaction: each flips to `hired` only where it is still `online`, so two
 * customers racing for the last device cannot both get it. Returns the ids that flipped.
 */
export async function hireDevices(trx: Db, deviceIds: readonly string[]): Promise<string[]> {
  if (deviceIds.length === 0) return [];
  const rows = await trx
    .updateTable("devices")
    .set({ status: "hired" })
    .where("id", "in", deviceIds)
    .where("status", "=", "online")
    .returning("id")
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Returns a hired device to the pool (`online`) when its job ended. Its last-seen time is left alone: a device
 * that went silent is not scheduled again until it heartbeats.
 */
export async function returnToPool(trx: Db, deviceId: string): Promise<void> {
  await trx
    .updateTable("devices")
    .set({ status: "online" })
    .where("id", "=", deviceId)
    .where("status", "=", "hired")
    .execute();
}

/** Sets the supplier's minimum price per GPU-hour (integer micro-units as a decimal string), or clears it. */
export async function setMinPrice(db: Db, deviceId: string, value: string | null): Promise<void> {
  await db.updateTable("devices").set({ min_price_per_hour: value }).where("id", "=", deviceId).execute();
}
