import type { Db } from "../db/database.js";
import { setDeviceLabelVisibility } from "../devices/device-record.js";

/** A device's owner and whether its label is public, or undefined when there is no such device. */
export async function labelVisibilityOf(
  db: Db,
  deviceId: string,
): Promise<{ ownerId: string; labelPublic: boolean } | undefined> {
  const row = await db
    .selectFrom("devices")
    .select(["owner_id", "label_public"])
    .where("id", "=", deviceId)
    .executeTakeFirst();
  return row ? { ownerId: row.owner_id, labelPublic: row.label_public } : undefined;
}

/**
 * Sets whether the explorer shows a device's label. Labels are private by default: an owner names machines
 * after hosts and places, so showing one is an explicit choice, made here and nowhere else.
 */
export async function setLabelVisibility(db: Db, deviceId: string, labelPublic: boolean): Promise<void> {
  await setDeviceLabelVisibility(db, deviceId, labelPublic);
}
