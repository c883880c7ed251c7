import { sql } from "kysely";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer } from "../testing/test-server.js";
import { insertSupplier } from "../testing/user-rows.js";
import { waitFor } from "../testing/wait-for.js";
import { epochStartMs } from "./epoch-clock.js";
import { closeEpoch } from "./epoch-close.js";
import {
  RESTART_LEAD_MS,
  RESTART_REASON,
  RESTART_WINDOW_MAX_MS,
  recordRestartWindow,
  restartsLiveNetwork,
} from "./restart-window.js";
import { insertDevice, recordUptime, slots } from "./reward-fixtures.js";
import { createSeason } from "./seasons.js";

const HOUR = 3600;
const MINUTE = 60_000;
const E = 480_000; // an hourly epoch in 2024
const at = (epoch: number, minutes: number) => epochStartMs(epoch, HOUR) + minutes * MINUTE;

async function rewardUnits(db: Db, epoch: number): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom("rewards")
    .select(["device_id", "up_minutes"])
    .where("epoch", "=", String(epoch))
    .execute();
  return Object.fromEntries(rows.map((r) => [r.device_id, r.up_minutes]));
}

describeEachDialect("the restart window", (database) => {
  let db: Db;
  const dev: Record<string, string> = {};

  beforeAll(async () => {
    db = database().db;
    await createSeason(
      db,
      {
        name: "restarts",
        startsAt: new Date(at(E, 0)).toISOString(),
        endsAt: new Date(at(E + 10, 0)).toISOString(),
        poolPerEpoch: "1000000",
        weights: { "sim-a100": 1 },
        minUpMinutes: 10,
      },
      { knownProfiles: ["sim-a100"], epochSeconds: HOUR, createdBy: null },
    );
    const owner = await insertSupplier(db);
    for (const name of ["waited", "neverBack", "steady"]) dev[name] = await insertDevice(db, owner);
  });

  it("is due only for a restart of a live network: a device seen in the minutes before the start", async () => {
    await db.updateTable("devices").set({ last_seen_at: null }).execute();
    expect(await restartsLiveNetwork(db, at(E, 20))).toBe(false);
    await db
      .updateTable("devices")
      .set({ last_seen_at: new Date(at(E, 5)) })
      .execute();
    expect(await restartsLiveNetwork(db, at(E, 20))).toBe(false);
    await db
      .updateTable("devices")
      .set({ last_seen_at: new Date(at(E, 19)) })
      .execute();
    expect(await restartsLiveNetwork(db, at(E, 20))).toBe(true);
  });

  it("keeps the minutes of a device that waited its turn, and gives none to one that never came back", async () => {
    // The server restarts at minute 20 of E and its fleet is admitted by minute 30.
    const id = await recordRestartWindow(db, {
      startedAtMs: at(E, 20),
      settledAtMs: at(E, 30),
      epochSeconds: HOUR,
    });
    const window = await db
      .selectFrom("maintenance_windows")
      .select(["starts_at", "ends_at", "reason", "created_by"])
      .where("id", "=", id!)
      .executeTakeFirstOrThrow();
    expect(new Date(window.starts_at).getTime()).toBe(at(E, 20) - RESTART_LEAD_MS);
    expect(new Date(window.ends_at).getTime()).toBe(at(E, 30));
    expect(window).toMatchObject({ reason: RESTART_REASON, created_by: null });

    await recordUptime(db, dev.waited!, E, slots(0, 19) | slots(30, 60)); // back at minute 30, in turn
    await recordUptime(db, dev.neverBack!, E, slots(0, 19));
    await recordUptime(db, dev.steady!, E, slots(0, 60)); // on another replica all along
    await closeEpoch(db, { epoch: E, epochSeconds: HOUR });
    expect(await rewardUnits(db, E)).toEqual({
      [dev.waited!]: 60, // 49 measured + minutes 19-29 credited
      [dev.steady!]: 60,
      [dev.neverBack!]: 19,
    });
  });

  it("lasts at most RESTART_WINDOW_MAX_MS and leaves out an epoch that is already closed", async () => {
    // E is closed: a restart at minute 59 of E credits only from the start of E + 1.
    const id = await recordRestartWindow(db, {
      startedAtMs: at(E, 59) + 30_000,
      settledAtMs: at(E + 1, 50),
      epochSeconds: HOUR,
    });
    const window = await db
      .selectFrom("maintenance_windows")
      .select([sql<string>`starts_at`.as("startsAt"), sql<string>`ends_at`.as("endsAt")])
      .where("id", "=", id!)
      .executeTakeFirstOrThrow();
    expect(new Date(window.startsAt).getTime()).toBe(at(E + 1, 0));
    expect(new Date(window.endsAt).getTime()).toBe(at(E, 59) + 30_000 + RESTART_WINDOW_MAX_MS);
    // A restart wholly inside the closed epoch records nothing.
    expect(
      await recordRestartWindow(db, { startedAtMs: at(E, 40), settledAtMs: at(E, 50), epochSeconds: HOUR }),
    ).toBeUndefined();
  });

  it("is recorded by a server that starts over a live network, once its openers have stopped being refused", async () => {
    await db.updateTable("devices").set({ last_seen_at: new Date() }).where("id", "=", dev.steady!).execute();
    const before = Date.now();
    const t = await startTestServer({ database: database() });
    try {
      const window = await waitFor(
        "the restart window",
        () =>
          db
            .selectFrom("maintenance_windows")
            .select(["starts_at", "ends_at"])
            .where("reason", "=", RESTART_REASON)
            .where("starts_at", ">=", new Date(before - RESTART_LEAD_MS))
            .executeTakeFirst(),
        { timeoutMs: 60_000, everyMs: 250 },
      );
      expect(new Date(window.starts_at).getTime()).toBeLessThanOrEqual(before - RESTART_LEAD_MS + 60_000);
      expect(new Date(window.ends_at).getTime()).toBeGreaterThan(before);
    } finally {
      await t.stop();
    }
  }, 90_000);
});
