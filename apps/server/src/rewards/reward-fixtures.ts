import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import type { DeviceStatus, Verification } from "../devices/tables.js";
import { insertDeviceRows } from "../testing/device-rows.js";
import { SLOTS_PER_EPOCH } from "./epoch-clock.js";

// Fixtures for reward tests: devices and stored up-minutes, written the way the uptime tracker writes them (a
// slot bitmask per device per epoch). Suppliers come from testing/user-rows.ts.

/** Inserts a device of the given owner and profile, verified and online unless told otherwise. */
export async function insertDevice(
  db: Db,
  ownerId: string,
  options: { profile?: string; status?: DeviceStatus; verification?: Verification } = {},
): Promise<string> {
  const id = newId("dev");
  await insertDeviceRows(db, [
    {
      id,
      owner_id: ownerId,
      profile: options.profile ?? "sim-a100",
      status: options.status ?? "online",
      verification: options.verification ?? "verified",
      // Verified by a pass just now, as the proof module would have it (uptime rewards need a recent pass).
      proven_at: (options.verification ?? "verified") === "verified" ? new Date() : null,
      gpu_vendor: "nvidia",
      gpu_model: "A100",
      gpu_count: 1,
      vram_gb: 80,
      hardware: JSON.stringify({}),
    },
  ]);
  return id;
}

/** A mask with slots [from, to) set. */
export function slots(from: number, to: number): bigint {
  let mask = 0n;
  for (let s = Math.max(0, from); s < Math.min(to, SLOTS_PER_EPOCH); s++) mask |= 1n << BigInt(s);
  return mask;
}

/** Stores a device's measured slots for an epoch, replacing the measured mask of a row already there. */
export async function recordUptime(db: Db, deviceId: string, epoch: number, mask: bigint): Promise<void> {
  let count = 0;
  for (let m = mask; m > 0n; m >>= 1n) count += Number(m & 1n);
  await db
    .insertInto("uptime")
    .values({ device_id: deviceId, epoch: String(epoch), minute_mask: mask.toString(), up_minutes: count })
    .onConflict((oc) =>
      oc.columns(["epoch", "device_id"]).doUpdateSet((eb) => ({
        minute_mask: eb.ref("excluded.minute_mask"),
        up_minutes: eb.ref("excluded.up_minutes"),
      })),
    )
    .execute();
}
