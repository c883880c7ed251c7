import { type Insertable, sql, type Updateable } from "kysely";
import type { Db } from "../db/database.js";
import type { DeviceTables } from "../devices/tables.js";

/**
 * Test support: writes device rows directly, for fixtures that need a fleet in a given state without enrolling
 * it. Production code changes devices only through devices/ (the single-writer test allows this file alone).
 */

/** Inserts device rows as given. */
export async function insertDeviceRows(
  db: Db,
  rows: ReadonlyArray<Insertable<DeviceTables["devices"]>>,
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto("devices")
    .values([...rows])
    .execute();
}

/** Sets columns of the given devices as given. */
export async function updateDeviceRows(
  db: Db,
  deviceIds: readonly string[],
  set: Updateable<DeviceTables["devices"]>,
): Promise<void> {
  if (deviceIds.length === 0) return;
  await db.updateTable("devices").set(set).where("id", "in", deviceIds).execute();
}

/**
 * Inserts `devices` bench devices in one SQL statement (generate_series), spread over the `owners` bench users
 * (`usr_` + md5 of `u<n>`): 95% verified, 1% quarantined, profiles cycling over `profiles`. Deterministic.
 */
export async function insertDeviceSeries(
  db: Db,
  devices: number,
  owners: number,
  profiles: readonly string[],
): Promise<void> {
  await sql`insert into devices (id, owner_id, status, verification, profile, gpu_vendor, gpu_model, gpu_count,
      vram_gb, hardware, proven_at)
    select 'dev_' || substr(md5('d' || i), 1, 26),
      'usr_' || substr(md5('u' || (1 + i % ${owners})), 1, 26),
      case when i % 100 = 7 then 'quarantined' else 'online' end,
      case when i % 20 = 3 then 'unverified' else 'verified' end,
      (${[...profiles]}::text[])[1 + i % ${profiles.length}],
      'nvidia', 'bench', 1, 80, '{}'::jsonb,
      case when i % 20 = 3 then null else now() end
    from generate_series(1, ${devices}) as i`.execute(db);
}
