import { hardwareProfiles } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { insertDeviceSeries } from "../testing/device-rows.js";
import { epochStartMs } from "./epoch-clock.js";
import { createSeason } from "./seasons.js";

/**
 * Seeds a large network for the epoch-close and proof-lookup benchmarks, entirely in SQL (generate_series), so
 * seeding costs the database and not the benchmark process: `devices` devices over devices/10 suppliers, 95%
 * verified, 1% quarantined, profiles cycling over every hardware profile. Deterministic for a given size.
 */
export async function seedRewardNetwork(
  db: Db,
  devices: number,
): Promise<{ devices: number; owners: number }> {
  const owners = Math.max(1, Math.floor(devices / 10));
  const profiles = hardwareProfiles.map((p) => p.id);
  await sql`insert into users (id, issuer, subject, email, roles)
    select 'usr_' || substr(md5('u' || i), 1, 26), 'bench', 'u' || i, null, '["supplier"]'::jsonb
    from generate_series(1, ${owners}) as i`.execute(db);
  await insertDeviceSeries(db, devices, owners, profiles);
  await sql`analyze users, devices`.execute(db);
  return { devices, owners };
}

/**
 * Seeds one epoch of uptime for every device — a third up all 60 slots, the rest a pseudo-random subset (about
 * half qualify at 30 minutes) — and a season of that one epoch with every profile's reward weight.
 */
export async function seedRewardEpoch(db: Db, epoch: number, epochSeconds: number): Promise<void> {
  // hashtextextended gives a deterministic 64-bit pseudo-random value per device and epoch; keep 60 bits.
  await sql`insert into uptime (device_id, epoch, minute_mask, up_minutes, credited_mask)
    select id, ${epoch}::bigint, m, bit_count(m::bit(64))::int, 0
    from (select id, case when hashtextextended(id, ${epoch}) % 3 = 0 then 1152921504606846975
                 else hashtextextended(id, ${epoch} + 1) & 1152921504606846975 end as m
          from devices) as t`.execute(db);
  await sql`analyze uptime`.execute(db);
  await createSeason(
    db,
    {
      name: `bench-${epoch}`,
      startsAt: new Date(epochStartMs(epoch, epochSeconds)).toISOString(),
      endsAt: new Date(epochStartMs(epoch + 1, epochSeconds)).toISOString(),
      poolPerEpoch: "1000000000",
      weights: Object.fromEntries(hardwareProfiles.map((p) => [p.id, p.rewardWeight])),
      minUpMinutes: 30,
    },
    { knownProfiles: hardwareProfiles.map((p) => p.id), epochSeconds, createdBy: null },
  );
}

/** Seeds the network and one epoch of uptime in its own season (both of the above), for benches and fault tests. */
export async function seedRewardBench(
  db: Db,
  options: { devices: number; epoch: number; epochSeconds: number },
): Promise<{ epoch: number; devices: number; owners: number }> {
  const network = await seedRewardNetwork(db, options.devices);
  await seedRewardEpoch(db, options.epoch, options.epochSeconds);
  return { epoch: options.epoch, ...network };
}
