import { hardwareProfiles } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { epochStartMs } from "./epoch-clock.js";
import { createSeason } from "./seasons.js";

/** What the reward benchmarks seeded: one epoch of uptime for many devices, in one season. */
export interface RewardBenchNetwork {
  epoch: number;
  devices: number;
  owners: number;
}

/**
 * Seeds a large network for the epoch-close and proof-lookup benchmarks, entirely in SQL (generate_series), so
 * seeding costs the database and not the benchmark process: `devices` devices over devices/10 suppliers, 95%
 * verified, 1% quarantined, profiles cycling over every hardware profile, and one epoch of uptime where a third
 * of the devices were up all 60 slots and the rest a pseudo-random subset. Deterministic for a given size.
 */
export async function seedRewardBench(
  db: Db,
  options: { devices: number; epoch: number; epochSeconds: number },
): Promise<RewardBenchNetwork> {
  const owners = Math.max(1, Math.floor(options.devices / 10));
  const profiles = hardwareProfiles.map((p) => p.id);
  await sql`insert into users (id, issuer, subject, email, roles)
    select 'usr_' || substr(md5('u' || i), 1, 26), 'bench', 'u' || i, null, '["supplier"]'::jsonb
    from generate_series(1, ${owners}) as i`.execute(db);
  await sql`insert into devices (id, owner_id, status, verification, profile, gpu_vendor, gpu_model, gpu_count,
      vram_gb, hardware)
    select 'dev_' || substr(md5('d' || i), 1, 26),
      'usr_' || substr(md5('u' || (1 + i % ${owners})), 1, 26),
      case when i % 100 = 7 then 'quarantined' else 'online' end,
      case when i % 20 = 3 then 'unverified' else 'verified' end,
      (${profiles}::text[])[1 + i % ${profiles.length}],
      'nvidia', 'bench', 1, 80, '{}'::jsonb
    from generate_series(1, ${options.devices}) as i`.execute(db);
  // hashtextextended gives a deterministic 64-bit pseudo-random value per device; keep 60 bits.
  await sql`insert into uptime (device_id, epoch, minute_mask, up_minutes, credited_mask)
    select id, ${options.epoch}::bigint, m, bit_count(m::bit(64))::int, 0
    from (select id, case when hashtextextended(id, 1) % 3 = 0 then 1152921504606846975
                 else hashtextextended(id, 2) & 1152921504606846975 end as m
          from devices) as t`.execute(db);
  await sql`analyze`.execute(db);
  await createSeason(
    db,
    {
      name: `bench-${options.epoch}`,
      startsAt: new Date(epochStartMs(options.epoch, options.epochSeconds)).toISOString(),
      endsAt: new Date(epochStartMs(options.epoch + 1, options.epochSeconds)).toISOString(),
      poolPerEpoch: "1000000000",
      weights: Object.fromEntries(hardwareProfiles.map((p) => [p.id, p.rewardWeight])),
      minUpMinutes: 30,
    },
    { knownProfiles: profiles, epochSeconds: options.epochSeconds, createdBy: null },
  );
  return { epoch: options.epoch, devices: options.devices, owners };
}
