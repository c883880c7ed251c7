import { sql } from "kysely";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { setVerification } from "../devices/verification.js";
import { FIXTURE_MODEL, insertDevices, marketHarness } from "../market/market-fixtures.js";
import { rankCandidates, reserveDevices, schedulingOptions } from "../market/scheduler.js";
import { epochStartMs } from "../rewards/epoch-clock.js";
import { closeEpoch } from "../rewards/epoch-close.js";
import { recomputeEpoch } from "../rewards/epoch-recompute.js";
import { insertDevice, recordUptime, slots } from "../rewards/reward-fixtures.js";
import { createSeason } from "../rewards/seasons.js";
import { describeEachDialect } from "../testing/dialects.js";
import { insertSupplier } from "../testing/user-rows.js";
import { deviceEligibility } from "./eligibility.js";
import { earn } from "./stake-fixtures.js";
import type { StakeSettings } from "./stake-settings.js";
import { bondStake } from "./stakes.js";

const HOUR_S = 3600;
const PER_GPU = 1_000_000n;
const PENDING: StakeSettings = { perGpu: 0n, slashBps: 1000, unbondSeconds: 7200, pendingSeconds: HOUR_S };
const STAKED: StakeSettings = { ...PENDING, perGpu: PER_GPU };

/** Marks a device verified since `at`. */
async function verifiedSince(db: Db, deviceId: string, at: Date): Promise<void> {
  await db
    .updateTable("devices")
    .set({ verification: "verified", verified_at: at })
    .where("id", "=", deviceId)
    .execute();
}

// A fraudster must not stake (or get verified), earn and leave within one epoch: with IGNIS_STAKE_PENDING_SECONDS,
// a device is neither hireable nor earning until it has been verified, and covered by stakes bonded, that long.
describeEachDialect("the pending period after verification and staking", (database) => {
  let db: Db;
  beforeAll(async () => {
    db = database().db;
  });

  const eligibility = async (settings: StakeSettings, deviceId: string, nowMs: number) => {
    const d = await db
      .selectFrom("devices")
      .select(["id", "status", "verification", "gpu_count", "verified_at"])
      .where("id", "=", deviceId)
      .executeTakeFirstOrThrow();
    return deviceEligibility(
      db,
      settings,
      { ...d, gpuCount: d.gpu_count, verifiedAt: d.verified_at ? new Date(d.verified_at) : null },
      nowMs,
    );
  };

  it("keeps verified_at at the start of a verified spell, so repeated passes do not restart the wait", async () => {
    const owner = await insertSupplier(db);
    const device = await insertDevice(db, owner, { verification: "unverified" });
    await setVerification(db, device, "verified");
    const first = await db
      .selectFrom("devices")
      .select("verified_at")
      .where("id", "=", device)
      .executeTakeFirstOrThrow();
    await setVerification(db, device, "verified");
    const again = await db
      .selectFrom("devices")
      .select("verified_at")
      .where("id", "=", device)
      .executeTakeFirstOrThrow();
    expect(new Date(again.verified_at!).getTime()).toBe(new Date(first.verified_at!).getTime());
    await setVerification(db, device, "failed");
    const failed = await db
      .selectFrom("devices")
      .select("verified_at")
      .where("id", "=", device)
      .executeTakeFirstOrThrow();
    expect(failed.verified_at).toBeNull();
  });

  it("names pending_period for a newly verified device, and nothing once the period is over", async () => {
    const owner = await insertSupplier(db);
    const device = await insertDevice(db, owner);
    const now = Date.now();
    await verifiedSince(db, device, new Date(now - 600_000));
    expect(await eligibility(PENDING, device, now)).toEqual({
      hireable: false,
      earning: false,
      reasons: ["pending_period"],
    });
    expect(await eligibility({ ...PENDING, pendingSeconds: 0 }, device, now)).toEqual({
      hireable: true,
      earning: true,
      reasons: [],
    });
    expect(await eligibility(PENDING, device, now + HOUR_S * 1000)).toMatchObject({ reasons: [] });
  });

  it("names pending_period for a newly bonded stake on a long-verified device, stake_missing before any", async () => {
    const owner = await insertSupplier(db);
    await earn(db, owner, 10n * PER_GPU);
    const device = await insertDevice(db, owner);
    const now = Date.now();
    await verifiedSince(db, device, new Date(now - 2 * HOUR_S * 1000));
    expect((await eligibility(STAKED, device, now)).reasons).toEqual(["stake_missing"]);
    await bondStake(db, STAKED, {
      ownerId: owner,
      deviceId: device,
      amount: PER_GPU,
      at: new Date(now - 60_000),
    });
    expect((await eligibility(STAKED, device, now)).reasons).toEqual(["pending_period"]);
    expect((await eligibility(STAKED, device, now + HOUR_S * 1000)).reasons).toEqual([]);
  });

  it("hires only devices past their pending period, in the ranking and again at reservation", async () => {
    const harness = marketHarness(db, { stakePendingSeconds: HOUR_S });
    const owner = await insertSupplier(db);
    const [settled, fresh] = await insertDevices(db, { ownerId: owner, count: 2, seenAt: harness.clock.ms });
    await verifiedSince(db, settled!, new Date(harness.clock.ms - 2 * HOUR_S * 1000));
    await verifiedSince(db, fresh!, new Date(harness.clock.ms - 60_000));
    const request = { gpuModel: FIXTURE_MODEL, region: null, maxPricePerGpuHour: null, maxRatePerHour: null };
    const ranked = await rankCandidates(db, request, schedulingOptions(harness.ctx));
    expect(ranked.map((c) => c.deviceId)).toEqual([settled]);
    const off = await rankCandidates(db, request, {
      ...schedulingOptions(harness.ctx),
      stakePendingSeconds: 0,
    });
    expect(off.map((c) => c.deviceId).sort()).toEqual([settled, fresh].sort());
    // The ranking read the device before it was verified again (a fresh verified spell): reservation refuses it.
    await verifiedSince(db, settled!, new Date(harness.clock.ms));
    await expect(
      db
        .transaction()
        .execute((trx) => reserveDevices(trx, ranked, 1, 0n, { seconds: HOUR_S, nowMs: harness.clock.ms })),
    ).rejects.toMatchObject({ code: "no_capacity" });
  });

  it("pays an epoch only to devices verified and staked since the pending period before its start", async () => {
    const EPOCH_SECONDS = 60;
    const FIRST = 3_000;
    const PENDING_S = 120;
    const epochAt = (epoch: number, second = 0) =>
      new Date(epochStartMs(epoch, EPOCH_SECONDS) + second * 1000);
    await createSeason(
      db,
      {
        name: "pending-period",
        startsAt: epochAt(FIRST).toISOString(),
        endsAt: epochAt(FIRST + 10).toISOString(),
        poolPerEpoch: "1000000",
        weights: { "sim-a100": 1 },
        minUpMinutes: 30,
      },
      { knownProfiles: ["sim-a100"], epochSeconds: EPOCH_SECONDS, createdBy: null },
    );
    const owner = await insertSupplier(db);
    await earn(db, owner, 10n * PER_GPU);
    const settled = await insertDevice(db, owner, { profile: "sim-a100" });
    const newlyVerified = await insertDevice(db, owner, { profile: "sim-a100" });
    const newlyStaked = await insertDevice(db, owner, { profile: "sim-a100" });
    await verifiedSince(db, settled, epochAt(FIRST - 3));
    await verifiedSince(db, newlyVerified, epochAt(FIRST - 1));
    await verifiedSince(db, newlyStaked, epochAt(FIRST - 3));
    const bond = (deviceId: string, at: Date) =>
      bondStake(db, STAKED, { ownerId: owner, deviceId, amount: PER_GPU, at });
    await bond(settled, epochAt(FIRST - 3));
    await bond(newlyVerified, epochAt(FIRST - 3));
    await bond(newlyStaked, epochAt(FIRST - 1));
    for (const device of [settled, newlyVerified, newlyStaked]) {
      for (const epoch of [FIRST, FIRST + 1]) await recordUptime(db, device, epoch, slots(0, 60));
    }
    const paid = async (epoch: number) => {
      await closeEpoch(db, {
        epoch,
        epochSeconds: EPOCH_SECONDS,
        stakePerGpu: PER_GPU,
        stakePendingSeconds: PENDING_S,
      });
      const rows = await db
        .selectFrom("rewards")
        .select(["device_id", sql<string>`amount::text`.as("amount")])
        .where("epoch", "=", String(epoch))
        .execute();
      return Object.fromEntries(rows.map((r) => [r.device_id, r.amount]));
    };
    // One epoch (60 s) before the first, both late-comers are still in their 120-s wait.
    expect(await paid(FIRST)).toEqual({ [settled]: "1000000" });
    // By the next epoch's start, both have waited 120 s.
    expect(Object.keys(await paid(FIRST + 1)).sort()).toEqual([settled, newlyVerified, newlyStaked].sort());
    expect((await recomputeEpoch(db, FIRST, EPOCH_SECONDS, PER_GPU, PENDING_S)).matches).toBe(true);
  });
});
