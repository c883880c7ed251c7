import type { Db } from "../db/database.js";
import type { DeviceStatus } from "./status.js";

/**
 * Quarantines a device for a security review. Returns the status it had, or undefined when there is no such
 * device or it is revoked (nothing to contain). A device in `conflict` stays there: it is refused already, and
 * its owner must resolve the conflict first.
 */
export async function quarantineDevice(
  db: Db,
  deviceId: string,
  at = new Date(),
): Promise<DeviceStatus | undefined> {
  const device = await db
    .selectFrom("devices")
    .select("status")
    .where("id", "=", deviceId)
    .executeTakeFirst();
  if (!device || device.status === "revoked") return undefined;
  await db
    .updateTable("devices")
    .set({ status: "quarantined", quarantined_at: at })
    .where("id", "=", deviceId)
    .where("status", "not in", ["revoked", "conflict"])
    .execute();
  return device.status;
}

/**
 * Lifts a security quarantine: the device comes back `offline` (it reconnects on its own), or `pending` if it
 * never connected. Does nothing to a device no longer quarantined.
 */
export async function releaseQuarantine(
  db: Db,
  deviceId: string,
  back: "offline" | "pending",
): Promise<void> {
  await db
    .updateTable("devices")
    .set({ status: back, quarantined_at: null })
    .where("id", "=", deviceId)
    .where("status", "=", "quarantined")
    .execute();
}
