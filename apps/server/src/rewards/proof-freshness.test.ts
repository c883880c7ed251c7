import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { setVerification } from "../devices/verification.js";
import { deviceEligibility } from "../stakes/eligibility.js";
import { updateDeviceRows } from "../testing/device-rows.js";
import { describeEachDialect } from "../testing/dialects.js";
import { insertSupplier } from "../testing/user-rows.js";
import { epochStartMs } from "./epoch-clock.js";
import { closeEpoch } from "./epoch-close.js";
import { recomputeEpoch } from "./epoch-recompute.js";
import { insertDevice, recordUptime, slots } from "./reward-fixtures.js";
import { createSeason } from "./seasons.js";

const EPOCH_SECONDS = 60;
const FIRST = 2_000;
const MAX_AGE_SECONDS = 48 * 3600;
const HOUR_MS = 3_600_000;

/**
 * A device is challenged only when it is free: a hired device's re-check waits for its rental to end. So an owner
 * could rent his own device (to himself, at his own price) and keep a device that no GPU backs verified, earning
 * uptime rewards, for as long as he pays the fee. Uptime rewards therefore need a pass within
 * IGNIS_PROOF_MAX_AGE_SECONDS of the epoch's start (or in the epoch); the rental still pays while it runs.
 */
describeEachDialect("uptime rewards need a recent proof", (database) => {
  let db: Db;
  const start = epochStartMs(FIRST, EPOCH_SECONDS);
  const dev: Record<string, string> = {};

  beforeAll(async () => {
    db = database().db;
    await createSeason(
      db,
      {
        name: "fresh",
        startsAt: new Date(start).toISOString(),
        endsAt: new Date(epochStartMs(FIRST + 10, EPOCH_SECONDS)).toISOString(),
        poolPerEpoch: "1000000",
        weights: { "sim-a100": 1 },
        minUpMinutes: 30,
      },
      { knownProfiles: ["sim-a100"], epochSeconds: EPOCH_SECONDS, createdBy: null },
    );
    const owner = await insertSupplier(db);
    for (const name of ["stale", "recent", "inEpoch", "never", "hired"]) {
      dev[name] = await insertDevice(db, owner, { status: name === "hired" ? "hired" : "online" });
      await recordUptime(db, dev[name]!, FIRST, slots(0, 60));
    }
    const at = (ms: number) => new Date(ms);
    await updateDeviceRows(db, [dev.stale!], { proven_at: at(start - MAX_AGE_SECONDS * 1000 - HOUR_MS) });
    await updateDeviceRows(db, [dev.recent!], { proven_at: at(start - MAX_AGE_SECONDS * 1000 + HOUR_MS) });
    await updateDeviceRows(db, [dev.inEpoch!], { proven_at: at(start + 30_000) });
    await updateDeviceRows(db, [dev.never!], { proven_at: null });
    // Kept hired by its owner for three days: no challenge reached it since its last pass.
    await updateDeviceRows(db, [dev.hired!], { proven_at: at(start - 72 * HOUR_MS) });
  });

  it("pays only the devices whose verifying pass is recent at the epoch's start, or in the epoch", async () => {
    const closed = await closeEpoch(db, {
      epoch: FIRST,
      epochSeconds: EPOCH_SECONDS,
      proofMaxAgeSeconds: MAX_AGE_SECONDS,
    });
    expect(closed).toMatchObject({ devices: 2, total: 1_000_000n });
    const paid = await db
      .selectFrom("rewards")
      .select("device_id")
      .where("epoch", "=", String(FIRST))
      .execute();
    expect(paid.map((r) => r.device_id).sort()).toEqual([dev.inEpoch, dev.recent].sort());
    // Anyone recomputing with the same rule gets the published root.
    const check = await recomputeEpoch(db, FIRST, EPOCH_SECONDS, 0n, 0, MAX_AGE_SECONDS);
    expect(check.matches).toBe(true);
  });

  it("tells the owner why a stale device does not earn, and keeps it hireable", async () => {
    const settings = {
      perGpu: 0n,
      pendingSeconds: 0,
      slashBps: 0,
      unbondSeconds: 0,
      proofMaxAgeSeconds: MAX_AGE_SECONDS,
    };
    const device = (id: string, provenAt: Date | null) => ({
      id,
      status: "online",
      verification: "verified",
      gpuCount: 1,
      verifiedAt: new Date(start - 100 * HOUR_MS),
      provenAt,
    });
    const nowMs = start + 1000;
    expect(
      await deviceEligibility(db, settings, device(dev.hired!, new Date(start - 72 * HOUR_MS)), nowMs),
    ).toEqual({ hireable: true, earning: false, reasons: ["proof_stale"] });
    expect(
      await deviceEligibility(db, settings, device(dev.recent!, new Date(start - HOUR_MS)), nowMs),
    ).toEqual({ hireable: true, earning: true, reasons: [] });
  });

  it("stamps the pass that leaves a device verified, and keeps it through a later failure", async () => {
    const before = Date.now();
    expect(await setVerification(db, dev.never!, "verified")).toBe(true);
    const proven = async () =>
      (
        await db
          .selectFrom("devices")
          .select("proven_at")
          .where("id", "=", dev.never!)
          .executeTakeFirstOrThrow()
      ).proven_at;
    const stamped = await proven();
    expect(new Date(stamped!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    await setVerification(db, dev.never!, "unverified");
    expect(await proven()).toEqual(stamped);
  });
});
