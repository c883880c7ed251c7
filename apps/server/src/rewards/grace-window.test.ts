import { sql } from "kysely";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { describeEachDialect } from "../testing/dialects.js";
import { insertSupplier } from "../testing/user-rows.js";
import { epochStartMs } from "./epoch-clock.js";
import { closeEpoch } from "./epoch-close.js";
import { closeDueEpochs, epochClosableAtMs } from "./epoch-schedule.js";
import { declareMaintenanceWindow } from "./maintenance-windows.js";
import { insertDevice, recordUptime, slots } from "./reward-fixtures.js";
import { createSeason } from "./seasons.js";

const HOUR = 3600;
const MINUTE = 60_000;
const E = 480_000; // an hourly epoch in 2024
const at = (epoch: number, minutes: number) =>
  new Date(epochStartMs(epoch, HOUR) + minutes * MINUTE).toISOString();

async function amounts(db: Db, epoch: number): Promise<Record<string, string>> {
  const rows = await db
    .selectFrom("rewards")
    .select(["device_id", sql<string>`amount::text`.as("amount")])
    .where("epoch", "=", String(epoch))
    .execute();
  return Object.fromEntries(rows.map((r) => [r.device_id, r.amount]));
}

async function upMinutes(db: Db, epoch: number, deviceId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom("rewards")
    .select("up_minutes")
    .where("epoch", "=", String(epoch))
    .where("device_id", "=", deviceId)
    .executeTakeFirst();
  return row?.up_minutes;
}

describeEachDialect("maintenance windows and grace", (database) => {
  let db: Db;
  const dev: Record<string, string> = {};

  beforeAll(async () => {
    db = database().db;
    await createSeason(
      db,
      {
        name: "grace",
        startsAt: at(E, 0),
        endsAt: at(E + 10, 0),
        poolPerEpoch: "1640000",
        weights: { "sim-a100": 1 },
        minUpMinutes: 10,
      },
      { knownProfiles: ["sim-a100"], epochSeconds: HOUR, createdBy: null },
    );
    const owner = await insertSupplier(db);
    for (const name of ["returns", "neverBack", "late", "steady", "wholeEpoch"])
      dev[name] = await insertDevice(db, owner);
    // A forced 20-minute outage, minutes 20 to 40 of epoch E, announced with 15 minutes of grace.
    await declareMaintenanceWindow(
      db,
      { start: at(E, 20), end: at(E, 40), graceMinutes: 15, reason: "key rotation migration" },
      { epochSeconds: HOUR, createdBy: null },
    );
    await recordUptime(db, dev.returns!, E, slots(0, 20) | slots(40, 60));
    await recordUptime(db, dev.neverBack!, E, slots(0, 20));
    await recordUptime(db, dev.late!, E, slots(0, 20) | slots(56, 60)); // back after end + grace (minute 55)
    await recordUptime(db, dev.steady!, E, slots(0, 60));
  });

  it("costs a device that returns within the grace nothing, and one that never returns what it missed", async () => {
    await closeEpoch(db, { epoch: E, epochSeconds: HOUR });
    // units: returns 40 measured + 20 credited = 60, steady 60, neverBack 20, late 20 + 4 = 24; Σ = 164.
    expect(await amounts(db, E)).toEqual({
      [dev.returns!]: "600000",
      [dev.steady!]: "600000",
      [dev.neverBack!]: "200000",
      [dev.late!]: "240000",
    });
    const credited = await db
      .selectFrom("uptime")
      .select(sql<string>`credited_mask::text`.as("mask"))
      .where("epoch", "=", String(E))
      .where("device_id", "=", dev.returns!)
      .executeTakeFirstOrThrow();
    expect(BigInt(credited.mask)).toBe(slots(20, 40));
  });

  it("waits for a window's end plus grace before closing the epochs it touches", async () => {
    // Minutes 50 of E+2 to 10 of E+4: the whole of E+3 is inside the window.
    await declareMaintenanceWindow(
      db,
      {
        start: at(E + 2, 50),
        end: at(E + 4, 10),
        graceMinutes: 15,
        reason: "datacenter move",
        leadMinutes: 5,
      },
      { epochSeconds: HOUR, createdBy: null },
    );
    await recordUptime(db, dev.wholeEpoch!, E + 2, slots(0, 50));
    await recordUptime(db, dev.wholeEpoch!, E + 4, slots(12, 60));
    await recordUptime(db, dev.steady!, E + 3, slots(0, 60));
    const timing = { epochSeconds: HOUR, finalizationSeconds: 30 };
    const settled = Date.parse(at(E + 4, 25)) + 30_000;
    expect(await epochClosableAtMs(db, E + 3, timing)).toBe(settled);
    expect((await closeDueEpochs(db, timing, settled - 1)).map((c) => c.epoch)).toEqual([E + 1]);
    expect((await closeDueEpochs(db, timing, settled)).map((c) => c.epoch)).toEqual([E + 2, E + 3]);
    const afterE4 = epochStartMs(E + 5, HOUR) + 30_000;
    expect((await closeDueEpochs(db, timing, afterE4)).map((c) => c.epoch)).toEqual([E + 4]);
  });

  it("credits a device offline for a whole epoch inside the window, and each slot of the window only once", async () => {
    expect(await upMinutes(db, E + 2, dev.wholeEpoch!)).toBe(60); // 50 measured + minutes 50-59 credited
    expect(await upMinutes(db, E + 3, dev.wholeEpoch!)).toBe(60); // no heartbeat at all: a credited row
    expect(await upMinutes(db, E + 4, dev.wholeEpoch!)).toBe(58); // minutes 0-9 credited, 12-59 measured
    expect(await amounts(db, E + 3)).toEqual({ [dev.wholeEpoch!]: "820000", [dev.steady!]: "820000" });
  });

  it("refuses a window that touches an epoch already closed", async () => {
    const refused = declareMaintenanceWindow(
      db,
      { start: at(E + 4, 30), end: at(E + 5, 30), graceMinutes: 0, reason: "too late" },
      { epochSeconds: HOUR, createdBy: null },
    );
    await expect(refused).rejects.toMatchObject({ code: "conflict" });
  });
});
