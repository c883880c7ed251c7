import type { HeartbeatLoad } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";

/** Rows per statement. */
const CHUNK = 1000;

/** The last heartbeat of a device, to write on its record. */
export interface SeenRow {
  deviceId: string;
  seenAt: Date;
  load: HeartbeatLoad | null;
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
