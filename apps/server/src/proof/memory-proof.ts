import { claimedMemoryMiB, type DeviceMemory, type OwnerDeviceMemory } from "@ignis/protocol";
import { type RawBuilder, sql } from "kysely";
import type { Db } from "../db/database.js";

/**
 * SQL for when the device in the outer query (its id column) last proved its memory: the decision time of its
 * latest decided check (pass or fail, by issue time) when that check carried the memory phase and passed; null
 * otherwise. A later failure of any kind, or a later pass without the phase (a worker that stopped announcing
 * `proof-vram`), makes memory unproven again. Timeouts do not count either way: they prove nothing.
 */
export function memoryProvenAt(deviceIdColumn: string): RawBuilder<Date | null> {
  return sql<Date | null>`(select case when c.outcome = 'pass' and c.memory_phase then c.decided_at end
    from proof_challenges c
    where c.device_id = ${sql.ref(deviceIdColumn)} and c.outcome in ('pass', 'fail')
    order by c.issued_at desc limit 1)`;
}

/** The device's claim, its verification and when its memory was last proven (memoryProvenAt). */
export interface MemoryFacts {
  vramGb: number;
  gpuCount: number;
  verification: string;
  memoryProvenAt: Date | string | null;
}

/** The public memory view: the claim and whether it is proven, never when. */
export function publicMemoryOf(device: MemoryFacts): DeviceMemory {
  const { claimedMiB, proven } = memoryOf(device);
  return { claimedMiB, proven };
}

/** The memory view of a device for its owner (less whether the worker can be asked, which the gateway knows). */
export function memoryOf(device: MemoryFacts): Omit<OwnerDeviceMemory, "workerProvesMemory"> {
  const proven = device.verification === "verified" && device.memoryProvenAt !== null;
  return {
    claimedMiB: claimedMemoryMiB(device.vramGb, device.gpuCount),
    proven,
    provenAt: proven ? new Date(device.memoryProvenAt!).toISOString() : null,
  };
}

/** When one device last proved its memory (memoryProvenAt), or null. */
export async function deviceMemoryProvenAt(db: Db, deviceId: string): Promise<Date | null> {
  const row = await db
    .selectFrom("devices")
    .select(memoryProvenAt("devices.id").as("proven_at"))
    .where("id", "=", deviceId)
    .executeTakeFirst();
  return row?.proven_at ? new Date(row.proven_at) : null;
}
