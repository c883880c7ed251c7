import type { Db } from "../db/database.js";

/** How many of a device's latest refused session openers its owner sees. */
const SHOWN = 10;

/** A refused session opener of a device, as its owner sees it: when, and the reason the worker was not told. */
export interface RefusedSession {
  at: Date;
  reason: string;
}

/**
 * The device's latest refused session openers, newest first, read from the audit log. A worker is told only
 * `handshake_failed` (no oracle for who tries ids); the owner of a known device learns why (a revoked device, a
 * key it does not have, a bad signature, a retired key), which is how a stolen or stale key shows up.
 */
export async function latestRefusedSessions(db: Db, deviceId: string): Promise<RefusedSession[]> {
  const rows = await db
    .selectFrom("audit_log")
    .select(["at", "details"])
    .where("object_id", "=", deviceId)
    .where("action", "=", "device.session.open")
    .where("outcome", "like", "refused:%")
    .orderBy("seq", "desc")
    .limit(SHOWN)
    .execute();
  return rows.map((r) => ({ at: r.at, reason: String(r.details.reason ?? "unknown") }));
}
