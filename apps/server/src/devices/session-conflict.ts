import type { Db } from "../db/database.js";
import { STATUS_TRANSITIONS } from "./status.js";

const CAN_CONFLICT = (Object.keys(STATUS_TRANSITIONS) as Array<keyof typeof STATUS_TRANSITIONS>).filter((s) =>
  STATUS_TRANSITIONS[s].includes("conflict"),
);

/**
 * Puts a device in `conflict`: a second session authenticated with its key while the first still answered, so
 * two machines hold the key. Records both peer addresses for the owner. Returns whether the row changed (false
 * when it was already in conflict, quarantined or revoked).
 */
export async function markDeviceConflict(
  db: Db,
  deviceId: string,
  peers: readonly string[],
  at = new Date(),
): Promise<boolean> {
  const result = await db
    .updateTable("devices")
    .set({ status: "conflict", conflict_at: at, conflict_peers: JSON.stringify(peers) })
    .where("id", "=", deviceId)
    .where("status", "in", CAN_CONFLICT)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * The owner keeps one machine: the device leaves `conflict` for `offline`, and its next session is asked to
 * rotate its key, so the copy retires with the old key at the end of the overlap. Returns whether it changed.
 */
export async function resolveConflictKeepingOne(db: Db, deviceId: string, at = new Date()): Promise<boolean> {
  const result = await db
    .updateTable("devices")
    .set({ status: "offline", conflict_at: null, conflict_peers: null, rotation_requested_at: at })
    .where("id", "=", deviceId)
    .where("status", "=", "conflict")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Records that the device's key must rotate (asked by the owner); the gateway asks its session. */
export async function requestKeyRotation(db: Db, deviceId: string, at = new Date()): Promise<void> {
  await db.updateTable("devices").set({ rotation_requested_at: at }).where("id", "=", deviceId).execute();
}

/** When a rotation was asked for and not yet done, or null. */
export async function pendingKeyRotation(db: Db, deviceId: string): Promise<Date | null> {
  const row = await db
    .selectFrom("devices")
    .select("rotation_requested_at")
    .where("id", "=", deviceId)
    .executeTakeFirst();
  return row?.rotation_requested_at ?? null;
}
