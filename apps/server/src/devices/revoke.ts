import type { Db } from "../db/database.js";
import { inTransaction } from "../db/in-transaction.js";
import { retireAllKeys } from "./device-keys.js";
import { setDeviceStatus } from "./status.js";

/**
 * Revokes a device for good: status `revoked` (it stays visible as such) and every key retired, in one
 * transaction. Closing its live session is the gateway's part. Returns false when it was already revoked.
 */
export async function revokeDevice(db: Db, deviceId: string, now = new Date()): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const changed = await setDeviceStatus(trx, deviceId, "revoked", { at: now });
    await retireAllKeys(trx, deviceId, now);
    return changed;
  });
}
