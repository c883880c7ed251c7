import type { HeartbeatLoad } from "@ignis/protocol";
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

/** The last heartbeat of a device, to write on its record. */
export interface SeenRow {
  deviceId: string;
  seenAt: Date;
  load: HeartbeatLoad | null;
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

/**
 * Writes last-seen times and loads in one statement per chunk; never moves a last-seen time backwards. A device
 * marked offline that heartbeated since `freshSince` becomes online here, without a write on the heartbeat path.
 */
export async function writeLastSeen(db: Db, rows: readonly SeenRow[], freshSince: Date): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = sql.join(
      rows
        .slice(i, i + CHUNK)
        .map(
          (r) =>
            sql`(${r.deviceId}, ${r.seenAt.toISOString()}::timestamptz, ${r.load ? JSON.stringify(r.load) : null}::jsonb)`,
        ),
    );
    await sql`
      update devices as d
      set last_seen_at = v.seen,
          last_heartbeat = coalesce(v.load, d.last_heartbeat),
          status = case
            when d.status = 'offline' and v.seen > ${freshSince.toISOString()}::timestamptz then 'online'
            else d.status
          end
      from (values ${values}) as v(id, seen, load)
      where d.id = v.id and (d.last_seen_at is null or d.last_seen_at < v.seen)
    `.execute(db);
  }
}
