import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { pendingOver, stakeCovers } from "../stakes/eligibility.js";
import type { Season } from "./seasons.js";

/** A device that qualifies in an epoch, with the inputs of its reward. */
export interface EpochShare {
  deviceId: string;
  ownerId: string;
  profile: string;
  /** The season's weight for the device's hardware profile. */
  weight: number;
  /** Measured plus grace-credited minute slots. */
  upMinutes: number;
}

const BATCH = 50_000;

/**
 * Reads the devices that earn in an epoch, ordered by device id. A device qualifies when it is verified,
 * neither quarantined nor revoked, its profile has a positive weight in the season, and its up-minutes
 * (minute_mask | credited_mask) reach the season's minimum, and (with staking on) its stake covers the rule with
 * stakes bonded since the epoch began and still bonded; device states are read as they are at close time. With
 * `proofMaxAgeSeconds`, the pass that verified it must also be that recent at the epoch's start, or in the epoch:
 * a device challenges never reach (one its owner keeps hired) stops earning.
 * Rows come in byte order of the id (`collate "C"`: JavaScript's order, and a cheaper sort than a locale's).
 * The query runs once, through a server-side cursor fetched in batches, so neither the database nor the driver
 * holds it twice: call it inside a transaction (`trx`).
 */
export async function loadEpochShares(
  trx: Db,
  epoch: number,
  season: Season,
  stake: {
    stakePerGpu: bigint;
    epochStart: Date;
    pendingSeconds?: number | undefined;
    proofMaxAgeSeconds?: number | undefined;
  } = {
    stakePerGpu: 0n,
    epochStart: new Date(0),
  },
): Promise<EpochShare[]> {
  // With a pending period, the device must have served it by the epoch's start: verified and staked since then.
  const pendingSeconds = stake.pendingSeconds ?? 0;
  const stakedSince = new Date(stake.epochStart.getTime() - pendingSeconds * 1000);
  const weights = JSON.stringify(season.weights);
  const weight = sql<number>`coalesce((${weights}::jsonb ->> d.profile)::int, 0)`;
  const upMinutes = sql<number>`bit_count((u.minute_mask | u.credited_mask)::bit(64))::int`;
  const query = trx
    .selectFrom("uptime as u")
    .innerJoin("devices as d", "d.id", "u.device_id")
    .select(["u.device_id", "d.owner_id", "d.profile", weight.as("weight"), upMinutes.as("up_minutes")])
    .where("u.epoch", "=", String(epoch))
    .where("d.verification", "=", "verified")
    .where("d.status", "not in", ["quarantined", "revoked", "conflict"])
    .where(weight, ">", 0)
    .where(upMinutes, ">=", season.minUpMinutes)
    .where(stakeCovers({ perGpu: stake.stakePerGpu }, { id: "d.id", gpuCount: "d.gpu_count" }, stakedSince))
    .where(
      pendingOver(
        { perGpu: stake.stakePerGpu, pendingSeconds },
        { id: "d.id", gpuCount: "d.gpu_count", verifiedAt: "d.verified_at" },
        stake.epochStart.getTime(),
      ),
    )
    .$if(stake.proofMaxAgeSeconds !== undefined, (q) =>
      q.where(
        "d.proven_at",
        ">=",
        new Date(stake.epochStart.getTime() - (stake.proofMaxAgeSeconds ?? 0) * 1000),
      ),
    )
    .orderBy(sql`u.device_id collate "C"`);
  type Row = { device_id: string; owner_id: string; profile: string; weight: number; up_minutes: number };
  await sql`declare epoch_shares no scroll cursor for ${query}`.execute(trx);
  const shares: EpochShare[] = [];
  for (;;) {
    const { rows } = await sql<Row>`fetch ${sql.raw(String(BATCH))} from epoch_shares`.execute(trx);
    for (const row of rows) {
      shares.push({
        deviceId: row.device_id,
        ownerId: row.owner_id,
        profile: row.profile,
        weight: Number(row.weight),
        upMinutes: Number(row.up_minutes),
      });
    }
    if (rows.length < BATCH) break;
  }
  await sql`close epoch_shares`.execute(trx);
  return shares;
}
