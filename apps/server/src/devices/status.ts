import type { DeviceStatus } from "@ignis/protocol";
import type { Db } from "../db/database.js";

export type { DeviceStatus };

/**
 * The status machine: pending → online ⇄ offline; online/offline ⇄ hired (the marketplace); any live state →
 * quarantined (security) and back to offline on release; any live state → conflict (two machines answered with
 * the device's key, session-conflict.ts) and back to offline when the owner resolves it; anything → revoked,
 * which is final.
 */
export const STATUS_TRANSITIONS: Readonly<Record<DeviceStatus, readonly DeviceStatus[]>> = {
  pending: ["online", "offline", "quarantined", "conflict", "revoked"],
  online: ["offline", "hired", "quarantined", "conflict", "revoked"],
  offline: ["online", "hired", "quarantined", "conflict", "revoked"],
  hired: ["online", "offline", "quarantined", "conflict", "revoked"],
  quarantined: ["offline", "revoked"],
  conflict: ["offline", "revoked"],
  revoked: [],
};

/** True when the machine allows moving from one status to another. */
export function canTransition(from: DeviceStatus, to: DeviceStatus): boolean {
  return from === to || STATUS_TRANSITIONS[from].includes(to);
}

/**
 * Moves a device to `to` when its current status is one the machine allows (and one of `from`, when given).
 * One conditional UPDATE, so concurrent writers cannot skip a state; returns whether the row changed.
 */
export async function setDeviceStatus(
  db: Db,
  deviceId: string,
  to: DeviceStatus,
  options: { from?: readonly DeviceStatus[]; at?: Date } = {},
): Promise<boolean> {
  const allowed = (Object.keys(STATUS_TRANSITIONS) as DeviceStatus[]).filter(
    (s) => s !== to && STATUS_TRANSITIONS[s].includes(to) && (!options.from || options.from.includes(s)),
  );
  if (allowed.length === 0) return false;
  const at = options.at ?? new Date();
  const result = await db
    .updateTable("devices")
    .set({
      status: to,
      ...(to === "quarantined" ? { quarantined_at: at } : {}),
      ...(to === "revoked" ? { revoked_at: at } : {}),
      ...(to === "online" ? { last_seen_at: at } : {}),
      ...(to === "conflict" ? { conflict_at: at } : { conflict_at: null, conflict_peers: null }),
    })
    .where("id", "=", deviceId)
    .where("status", "in", allowed)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Devices per statement when a whole set goes offline at once (a stalled replica's sweep, a network cut). */
const OFFLINE_BATCH = 1000;

/**
 * Marks these devices offline where they are `online` (setDeviceStatus to offline from online, for many devices
 * in one statement per thousand): a replica's liveness sweep finding many sessions silent at once writes them
 * together instead of one round trip each.
 */
export async function markDevicesOffline(db: Db, deviceIds: readonly string[]): Promise<void> {
  for (let i = 0; i < deviceIds.length; i += OFFLINE_BATCH) {
    await db
      .updateTable("devices")
      .set({ status: "offline", conflict_at: null, conflict_peers: null })
      .where("id", "in", deviceIds.slice(i, i + OFFLINE_BATCH))
      .where("status", "=", "online")
      .execute();
  }
}

/**
 * Marks offline every `online` device not seen since `seenBefore`: the backstop for devices whose replica died
 * before it could mark them. One statement.
 */
export async function markSilentDevicesOffline(db: Db, seenBefore: Date): Promise<void> {
  await db
    .updateTable("devices")
    .set({ status: "offline" })
    .where("status", "=", "online")
    .where((eb) => eb.or([eb("last_seen_at", "is", null), eb("last_seen_at", "<", seenBefore)]))
    .execute();
}
