import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  enrollSimulated,
  startTestWorker,
  type TestWorker,
  userWithKey,
} from "../testing/worker-fixture.js";
import { slotsOfMask } from "../uptime/minute-slots.js";

const DEVICES = 200;
const EPOCH_SECONDS = 600; // 60 slots of 10 s: room for a loaded 2-core machine
const SLOT_MS = (EPOCH_SECONDS * 1000) / 60;
const globalSlot = (ms: number) => Math.floor(ms / SLOT_MS);

describeEachDialect("a forced fleet key migration", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  const workers: TestWorker[] = [];
  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: {
        IGNIS_HEARTBEAT_SECONDS: "0.5",
        IGNIS_EPOCH_SECONDS: String(EPOCH_SECONDS),
        IGNIS_UPTIME_FLUSH_SECONDS: "0.5",
      },
    });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.handle.stop()));
    await t?.stop();
    cleanupStateDirs();
  });

  it(`keeps every up-minute of ${DEVICES} devices that rotate their keys while heartbeating`, async () => {
    const enrolled: Array<{ deviceId: string; stateDir: string }> = [];
    for (let i = 0; i < DEVICES; i++) enrolled.push(await enrollSimulated(t, supplier.key, "sim-cpu"));
    // What each worker said, with when: a device that lost a slot shows why (refused, reconnecting, rotating).
    const said = new Map<string, string[]>();
    const started = await Promise.all(
      enrolled.map((e) =>
        startTestWorker(t, supplier.key, {
          stateDir: e.stateDir,
          reconnectBaseMs: 50,
          log: (line) => {
            const lines = said.get(e.stateDir) ?? [];
            lines.push(`${new Date().toISOString()} ${line}`);
            said.set(e.stateDir, lines);
          },
        }),
      ),
    );
    workers.push(...started);
    // Every device is online: count from the next full slot.
    const firstSlot = globalSlot(Date.now()) + 1;

    const migration = await call<{ devicesNotified: number }>(
      t,
      "POST",
      "/v1/admin/key-migrations",
      t.adminKey,
      {
        rotateBy: new Date(Date.now() + 20_000).toISOString(),
      },
    );
    expect(migration.body.devicesNotified).toBe(DEVICES);
    // Devices spread their rotations over a quarter of the time left, heartbeating all along.
    await waitFor(
      "every worker to rotate its key once",
      () => workers.every((w) => w.handle.stats().rotations === 1),
      { timeoutMs: 30_000, everyMs: 100 },
    );

    // A rolling restart: every session is cut; each worker comes back with its new key.
    for (const w of workers) await t.server.ctx.gateway.disconnect(w.deviceId, "maintenance");
    await waitFor(
      "every worker back online in a second session",
      () => workers.every((w) => w.handle.stats().sessions >= 2 && w.handle.stats().online),
      { timeoutMs: 30_000, everyMs: 100 },
    );

    // Heartbeats go on for two more slots: wait until every device's last slot is stored, then stop them.
    const lastSlot = Math.max(globalSlot(Date.now()) + 1, firstSlot + 3);
    const storedSlots = async () => {
      await t.server.ctx.uptime.flush();
      const rows = await t.server.ctx.db
        .selectFrom("uptime")
        .select(["device_id", "epoch", "minute_mask"])
        .where(
          "device_id",
          "in",
          workers.map((w) => w.deviceId),
        )
        .execute();
      const slotsByDevice = new Map<string, Set<number>>();
      for (const r of rows) {
        const set = slotsByDevice.get(r.device_id) ?? new Set<number>();
        for (const s of slotsOfMask(r.minute_mask)) set.add(Number(r.epoch) * 60 + s);
        slotsByDevice.set(r.device_id, set);
      }
      return slotsByDevice;
    };
    await waitFor(`every device's slot ${lastSlot} stored`, storedSlots, {
      until: (slots) => workers.every((w) => slots.get(w.deviceId)?.has(lastSlot)),
      timeoutMs: 4 * SLOT_MS + 30_000,
      everyMs: 250,
    });
    await Promise.all(workers.map((w) => w.handle.stop()));
    const slotsByDevice = await storedSlots();
    const missing: string[] = [];
    for (const w of workers) {
      const have = slotsByDevice.get(w.deviceId) ?? new Set();
      for (let s = firstSlot; s <= lastSlot; s++) if (!have.has(s)) missing.push(`${w.deviceId}@${s}`);
    }
    expect(lastSlot - firstSlot).toBeGreaterThanOrEqual(2);
    const slotStart = (slot: number) => new Date(slot * SLOT_MS).toISOString();
    const lost = [...new Set(missing.map((m) => m.split("@")[0]!))].slice(0, 5).map((id) => {
      const w = workers.find((x) => x.deviceId === id)!;
      return `--- ${id}\n${(said.get(w.stateDir) ?? []).join("\n")}`;
    });
    expect(
      missing,
      `slots ${slotStart(firstSlot)}..${slotStart(lastSlot + 1)}; what devices that lost one said:\n${lost.join("\n")}`,
    ).toEqual([]);

    const keys = await t.server.ctx.db
      .selectFrom("device_keys")
      .select(["device_id", "state"])
      .where(
        "device_id",
        "in",
        workers.map((w) => w.deviceId),
      )
      .execute();
    expect(keys.filter((k) => k.state === "active")).toHaveLength(DEVICES);
    expect(keys.filter((k) => k.state === "retiring")).toHaveLength(DEVICES);
  }, 240_000);
});
