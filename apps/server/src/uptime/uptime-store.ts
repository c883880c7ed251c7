import { sql } from "kysely";
import type { Db } from "../db/database.js";

/** One device's slots of one epoch, to OR into the stored mask. */
export interface UptimeRow {
  deviceId: string;
  epoch: number;
  /** Decimal string of the 60-bit slot mask. */
  mask: string;
  upMinutes: number;
}

/** Rows per statement: well under PostgreSQL's 65,535 bound parameters. */
const CHUNK = 1000;

/**
 * Merges slot masks into `uptime` with a bitwise OR, so writing a slot twice (a retried flush, two replicas)
 * never counts it twice; `up_minutes` is recomputed as the bit count of the merged mask.
 */
export async function mergeUptime(db: Db, input: readonly UptimeRow[]): Promise<void> {
  const rows = coalesce(input);
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    await db
      .insertInto("uptime")
      .values(
        chunk.map((r) => ({
          device_id: r.deviceId,
          epoch: r.epoch,
          minute_mask: r.mask,
          up_minutes: r.upMinutes,
        })),
      )
      .onConflict((oc) =>
        oc.columns(["epoch", "device_id"]).doUpdateSet({
          minute_mask: sql`uptime.minute_mask | excluded.minute_mask`,
          up_minutes: sql<number>`bit_count((uptime.minute_mask | excluded.minute_mask)::bit(64))::int`,
        }),
      )
      .execute();
  }
}

/** One row per (device, epoch): PostgreSQL refuses to upsert the same key twice in one statement. */
function coalesce(rows: readonly UptimeRow[]): UptimeRow[] {
  const byKey = new Map<string, UptimeRow>();
  for (const r of rows) {
    const key = `${r.deviceId}|${r.epoch}`;
    const prev = byKey.get(key);
    if (!prev) {
      byKey.set(key, r);
      continue;
    }
    const mask = BigInt(prev.mask) | BigInt(r.mask);
    let bits = 0;
    for (let m = mask; m > 0n; m >>= 1n) bits += Number(m & 1n);
    byKey.set(key, { deviceId: r.deviceId, epoch: r.epoch, mask: mask.toString(), upMinutes: bits });
  }
  return [...byKey.values()];
}
