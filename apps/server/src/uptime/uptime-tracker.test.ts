import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { describeEachDialect } from "../testing/dialects.js";
import { slotsOfMask } from "./minute-slots.js";
import { createUptimeTracker } from "./uptime-tracker.js";

const EPOCH = 60; // slots of one second
const T0 = 1_800_000_000_000; // the start of an epoch (divisible by 60 000)
const quiet = { warn: () => {}, error: () => {} };

describeEachDialect("uptime tracker", (database) => {
  let db: Db;
  const devices = [
    "dev_aaaaaaaaaaaaaaaaaaaaaaaaaa",
    "dev_bbbbbbbbbbbbbbbbbbbbbbbbbb",
    "dev_cccccccccccccccccccccccccc",
  ];
  beforeAll(async () => {
    db = database().db;
    const owner = await db
      .insertInto("users")
      .values({ id: "usr_uptimeowner0000000000000", issuer: "local", subject: "u", email: null, roles: "[]" })
      .returning("id")
      .executeTakeFirstOrThrow();
    for (const id of devices) {
      await db
        .insertInto("devices")
        .values({
          id,
          owner_id: owner.id,
          label: null,
          status: "online",
          profile: "sim-cpu",
          gpu_vendor: "cpu",
          gpu_model: "CPU",
          gpu_count: 1,
          vram_gb: 0,
          hardware: "{}",
        })
        .execute();
    }
  });
  afterAll(() => undefined);

  const row = (deviceId: string, epoch: number) =>
    db
      .selectFrom("uptime")
      .selectAll()
      .where("device_id", "=", deviceId)
      .where("epoch", "=", String(epoch))
      .executeTakeFirst();

  it("writes one row per device and epoch for many heartbeats, with the slots that had one", async () => {
    const tracker = createUptimeTracker({
      db,
      epochSeconds: EPOCH,
      flushSeconds: 60,
      onlineWindowSeconds: 1,
      log: quiet,
    });
    const mark = tracker.track(devices[0]!);
    for (let ms = 0; ms < 10_000; ms += 250) mark.mark(T0 + ms, null);
    mark.mark(T0 + 59_500, null);
    await tracker.flush();
    const stored = await row(devices[0]!, T0 / 60_000);
    expect(slotsOfMask(stored!.minute_mask)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 59]);
    expect(stored!.up_minutes).toBe(11);
    mark.release();
  });

  it("merges later flushes, a second replica and retries with a bitwise OR, never double counting", async () => {
    const a = createUptimeTracker({
      db,
      epochSeconds: EPOCH,
      flushSeconds: 60,
      onlineWindowSeconds: 1,
      log: quiet,
    });
    const b = createUptimeTracker({
      db,
      epochSeconds: EPOCH,
      flushSeconds: 60,
      onlineWindowSeconds: 1,
      log: quiet,
    });
    const ma = a.track(devices[1]!);
    const mb = b.track(devices[1]!);
    ma.mark(T0 + 1_000, null);
    mb.mark(T0 + 1_500, null); // the same slot on another replica
    mb.mark(T0 + 2_000, null);
    await a.flush();
    await b.flush();
    await b.flush();
    ma.mark(T0 + 30_000, null);
    await a.flush();
    const stored = await row(devices[1]!, T0 / 60_000);
    expect(slotsOfMask(stored!.minute_mask)).toEqual([1, 2, 30]);
    expect(stored!.up_minutes).toBe(3);
  });

  it("splits heartbeats across an epoch boundary into two rows", async () => {
    const tracker = createUptimeTracker({
      db,
      epochSeconds: EPOCH,
      flushSeconds: 60,
      onlineWindowSeconds: 1,
      log: quiet,
    });
    const mark = tracker.track(devices[2]!);
    mark.mark(T0 + 59_900, null);
    mark.mark(T0 + 60_100, null);
    await tracker.flush();
    expect(slotsOfMask((await row(devices[2]!, T0 / 60_000))!.minute_mask)).toContain(59);
    expect(slotsOfMask((await row(devices[2]!, T0 / 60_000 + 1))!.minute_mask)).toEqual([0]);
  });

  it("keeps buffering while the database is down and loses nothing once it is back", async () => {
    let down = true;
    const flaky = new Proxy(db, {
      get(target, prop) {
        if (down) throw new Error("database unavailable");
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const tracker = createUptimeTracker({
      db: flaky,
      epochSeconds: EPOCH,
      flushSeconds: 60,
      onlineWindowSeconds: 1,
      log: quiet,
    });
    const mark = tracker.track(devices[0]!);
    const epoch = T0 / 60_000 + 10;
    const created = tracker.storedThroughMs();
    mark.mark(epoch * 60_000 + 20_000, null);
    await tracker.flush();
    mark.mark(epoch * 60_000 + 40_000, null);
    mark.mark((epoch + 1) * 60_000 + 5_000, null); // a finished epoch waits in the queue
    await tracker.flush();
    expect(tracker.stats().failedFlushes).toBe(2);
    expect(await row(devices[0]!, epoch)).toBeUndefined();
    // Nothing was stored: last-seen times are as old as they were, and rules about silence must know it.
    expect(tracker.storedThroughMs()).toBe(created);
    down = false;
    const flushStarted = Date.now();
    await tracker.flush();
    expect(tracker.storedThroughMs()).toBeGreaterThanOrEqual(flushStarted);
    expect(slotsOfMask((await row(devices[0]!, epoch))!.minute_mask)).toEqual([20, 40]);
    expect(slotsOfMask((await row(devices[0]!, epoch + 1))!.minute_mask)).toEqual([5]);
    expect(tracker.stats().pendingRows).toBe(0);
    mark.release();
    await tracker.stop();
    expect(tracker.stats().devices).toBe(0);
  });

  it("writes the last heartbeat's time and load on the device record", async () => {
    const tracker = createUptimeTracker({
      db,
      epochSeconds: EPOCH,
      flushSeconds: 60,
      onlineWindowSeconds: 1,
      log: quiet,
    });
    const mark = tracker.track(devices[2]!);
    const at = T0 + 120_000; // later than any heartbeat above: last-seen times never move back
    mark.mark(at, { cpuPercent: 12, memUsedGb: 3, gpus: [], busy: false });
    await tracker.flush();
    const device = await db
      .selectFrom("devices")
      .select(["last_seen_at", "last_heartbeat"])
      .where("id", "=", devices[2]!)
      .executeTakeFirstOrThrow();
    expect(device.last_seen_at?.getTime()).toBe(at);
    expect(device.last_heartbeat).toEqual({ cpuPercent: 12, memUsedGb: 3, gpus: [], busy: false });
    mark.release();
  });
});
