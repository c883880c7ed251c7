import { sql } from "kysely";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { describeEachDialect } from "../testing/dialects.js";
import { insertSupplier } from "../testing/user-rows.js";
import { createUptimeTracker } from "../uptime/uptime-tracker.js";
import { epochEndMs, epochStartMs } from "./epoch-clock.js";
import { closeDueEpochs } from "./epoch-schedule.js";
import { insertDevice } from "./reward-fixtures.js";
import { createSeason } from "./seasons.js";

const EPOCH_SECONDS = 60; // a one-second slot
const FIRST = 28_000_000;
const EPOCHS = 3;
const quiet = { warn: () => undefined, error: () => undefined };

describeEachDialect("rewards from the uptime tracker's heartbeats", (database) => {
  let db: Db;
  const dev: Record<string, string> = {};

  beforeAll(async () => {
    db = database().db;
    await createSeason(
      db,
      {
        name: "tracked",
        startsAt: new Date(epochStartMs(FIRST, EPOCH_SECONDS)).toISOString(),
        endsAt: new Date(epochStartMs(FIRST + EPOCHS, EPOCH_SECONDS)).toISOString(),
        poolPerEpoch: "5000",
        weights: { "sim-h100": 3, "sim-a100": 2 },
        minUpMinutes: 10,
      },
      { knownProfiles: ["sim-h100", "sim-a100"], epochSeconds: EPOCH_SECONDS, createdBy: null },
    );
    const owner = await insertSupplier(db);
    dev.steady = await insertDevice(db, owner, { profile: "sim-h100" });
    dev.late = await insertDevice(db, owner, { profile: "sim-a100" });
    dev.unproven = await insertDevice(db, owner, { profile: "sim-a100", verification: "unverified" });
    const tracker = createUptimeTracker({
      db,
      epochSeconds: EPOCH_SECONDS,
      flushSeconds: 60,
      onlineWindowSeconds: 60,
      log: quiet,
    });
    const marks = Object.fromEntries(Object.entries(dev).map(([name, id]) => [name, tracker.track(id)]));
    // Heartbeats twice a slot: steady and unproven all epoch long, late only after the first 20 slots.
    for (
      let ms = epochStartMs(FIRST, EPOCH_SECONDS);
      ms < epochEndMs(FIRST + EPOCHS - 1, EPOCH_SECONDS);
      ms += 500
    ) {
      marks.steady!.mark(ms, null);
      marks.unproven!.mark(ms, null);
      if ((ms / 1000) % EPOCH_SECONDS >= 20) marks.late!.mark(ms, null);
    }
    await tracker.flush();
    for (const mark of Object.values(marks)) mark.release();
    await tracker.stop();
  });

  it("pays each epoch exactly the formula's amounts for what the tracker stored", async () => {
    const now = epochEndMs(FIRST + EPOCHS - 1, EPOCH_SECONDS) + 30_000;
    const closed = await closeDueEpochs(db, { epochSeconds: EPOCH_SECONDS, finalizationSeconds: 30 }, now);
    expect(closed.map((c) => [c.epoch, c.total, c.devices])).toEqual([
      [FIRST, 5000n, 2],
      [FIRST + 1, 5000n, 2],
      [FIRST + 2, 5000n, 2],
    ]);
    // steady: 3 × 60 = 180 units, late: 2 × 40 = 80; 5000 × 180 / 260 = 3461 r 140 and 5000 × 80 / 260 = 1538 r 120,
    // so the one micro-unit left goes to steady.
    const rows = await db
      .selectFrom("rewards")
      .select(["epoch", "device_id", "up_minutes", sql<string>`amount::text`.as("amount")])
      .orderBy("epoch")
      .orderBy("up_minutes", "desc")
      .execute();
    expect(rows.map((r) => [Number(r.epoch), r.device_id, r.up_minutes, r.amount])).toEqual(
      [FIRST, FIRST + 1, FIRST + 2].flatMap((epoch) => [
        [epoch, dev.steady, 60, "3462"],
        [epoch, dev.late, 40, "1538"],
      ]),
    );
  });
});
