import { sql } from "kysely";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { FIXTURE_MODEL, insertDevices, marketHarness } from "../market/market-fixtures.js";
import { rankCandidates, reserveDevices, schedulingOptions } from "../market/scheduler.js";
import { epochStartMs } from "../rewards/epoch-clock.js";
import { closeEpoch } from "../rewards/epoch-close.js";
import { recomputeEpoch } from "../rewards/epoch-recompute.js";
import { insertDevice, recordUptime, slots } from "../rewards/reward-fixtures.js";
import { createSeason } from "../rewards/seasons.js";
import { describeEachDialect } from "../testing/dialects.js";
import { insertSupplier } from "../testing/user-rows.js";
import { earn } from "./stake-fixtures.js";
import type { StakeSettings } from "./stake-settings.js";
import { bondStake, unbondStake } from "./stakes.js";

const EPOCH_SECONDS = 60;
const FIRST = 2_000;
const PER_GPU = 1_000_000n;
const ON: StakeSettings = { perGpu: PER_GPU, slashBps: 1000, unbondSeconds: 3600, pendingSeconds: 0 };
const epochAt = (epoch: number, second = 0) => new Date(epochStartMs(epoch, EPOCH_SECONDS) + second * 1000);

describeEachDialect("staking gates hiring and earning", (database) => {
  let db: Db;
  beforeAll(async () => {
    db = database().db;
  });

  it("hires only devices whose bonded stake covers the rule, and none once the stake starts unbonding", async () => {
    const harness = marketHarness(db, { stakePerGpu: PER_GPU });
    const owner = await insertSupplier(db);
    await earn(db, owner, 10n * PER_GPU);
    const [staked, bare, short] = await insertDevices(db, {
      ownerId: owner,
      count: 3,
      seenAt: harness.clock.ms,
    });
    const stake = await bondStake(db, ON, {
      ownerId: owner,
      deviceId: staked!,
      amount: PER_GPU,
      at: new Date(),
    });
    await bondStake(db, ON, { ownerId: owner, deviceId: short!, amount: PER_GPU - 1n, at: new Date() });
    const request = {
      gpuModel: FIXTURE_MODEL,
      region: null,
      maxPricePerGpuHour: null,
      maxRatePerHour: null,
    };
    const ranked = await rankCandidates(db, request, schedulingOptions(harness.ctx));
    expect(ranked.map((c) => c.deviceId)).toEqual([staked]);
    const off = await rankCandidates(db, request, { ...schedulingOptions(harness.ctx), stakePerGpu: 0n });
    expect(off.map((c) => c.deviceId).sort()).toEqual([staked, bare, short].sort());
    // The stake starts unbonding between the ranking and the reservation: the reservation refuses the device.
    await unbondStake(db, ON, { stakeId: stake.id, at: new Date() });
    await expect(
      db.transaction().execute((trx) => reserveDevices(trx, ranked, 1, PER_GPU)),
    ).rejects.toMatchObject({ code: "no_capacity" });
    expect(await rankCandidates(db, request, schedulingOptions(harness.ctx))).toEqual([]);
  });

  it("pays an epoch's reward only to devices staked through the whole epoch", async () => {
    await createSeason(
      db,
      {
        name: "stake-gate",
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
    const throughout = await insertDevice(db, owner, { profile: "sim-a100" });
    const never = await insertDevice(db, owner, { profile: "sim-a100" });
    const midway = await insertDevice(db, owner, { profile: "sim-a100" });
    const leaving = await insertDevice(db, owner, { profile: "sim-a100" });
    const bond = (deviceId: string, at: Date) =>
      bondStake(db, ON, { ownerId: owner, deviceId, amount: PER_GPU, at });
    await bond(throughout, epochAt(FIRST - 1));
    await bond(midway, epochAt(FIRST, 30));
    const gone = await bond(leaving, epochAt(FIRST - 1));
    await unbondStake(db, ON, { stakeId: gone.id, at: epochAt(FIRST, 10) });
    for (const device of [throughout, never, midway, leaving]) {
      for (const epoch of [FIRST, FIRST + 1]) await recordUptime(db, device, epoch, slots(0, 60));
    }
    const paid = async (epoch: number) => {
      await closeEpoch(db, { epoch, epochSeconds: EPOCH_SECONDS, stakePerGpu: PER_GPU });
      const rows = await db
        .selectFrom("rewards")
        .select(["device_id", sql<string>`amount::text`.as("amount")])
        .where("epoch", "=", String(epoch))
        .execute();
      return Object.fromEntries(rows.map((r) => [r.device_id, r.amount]));
    };
    expect(await paid(FIRST)).toEqual({ [throughout]: "1000000" });
    // Staked since the middle of the first epoch: earns from the next one on.
    expect(await paid(FIRST + 1)).toEqual({ [throughout]: "500000", [midway]: "500000" });
    expect((await recomputeEpoch(db, FIRST + 1, EPOCH_SECONDS, PER_GPU)).matches).toBe(true);
  });
});
