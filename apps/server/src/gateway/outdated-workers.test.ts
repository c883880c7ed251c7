import { afterAll, beforeAll, expect, it } from "vitest";
import { recordWorkerVersion } from "../devices/worker-version.js";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  enrollSimulated,
  startTestWorker,
  userWithKey,
} from "../testing/worker-fixture.js";

interface OwnerView {
  status: string;
  connected: boolean;
  workerVersion: string | null;
  lastSeenAt: string | null;
  outdated: { since: string; earningUntil: string; earning: boolean; updateCommand: string } | null;
}

describeEachDialect("outdated workers", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  const GRACE_SECONDS = 3600;
  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: {
        IGNIS_HEARTBEAT_SECONDS: "0.2",
        IGNIS_EPOCH_SECONDS: "60",
        IGNIS_UPTIME_FLUSH_SECONDS: "0.1",
        IGNIS_MIN_WORKER_VERSION: "0.2.0",
        IGNIS_OUTDATED_GRACE_SECONDS: String(GRACE_SECONDS),
      },
    });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  const view = async (id: string) =>
    (await call<OwnerView>(t, "GET", `/v1/devices/${id}`, supplier.key)).body;
  const upMinutes = async (id: string) => {
    const rows = await t.server.ctx.db
      .selectFrom("uptime")
      .select("up_minutes")
      .where("device_id", "=", id)
      .execute();
    return rows.reduce((sum, r) => sum + r.up_minutes, 0);
  };

  it("tells an outdated worker, and its owner, to update, and keeps paying it through the grace period", async () => {
    const logs: string[] = [];
    const w = await startTestWorker(t, supplier.key, { workerVersion: "0.1.0", log: (l) => logs.push(l) });
    const notice = await waitFor("the outdated notice", () =>
      w.received.find((m) => m.type === "worker.notice"),
    );
    expect(notice).toMatchObject({ code: "worker_outdated", updateCommand: "ignis worker update" });
    expect(Date.parse(String((notice as { earningUntil: string }).earningUntil))).toBeGreaterThan(Date.now());
    expect(logs.some((l) => l.includes("worker_outdated") && l.includes("ignis worker update"))).toBe(true);

    const outdated = await waitFor(
      "the owner view",
      async () => (await view(w.deviceId)).outdated ?? undefined,
    );
    expect(outdated).toMatchObject({ earning: true, updateCommand: "ignis worker update" });
    expect(Date.parse(outdated.earningUntil) - Date.parse(outdated.since)).toBe(GRACE_SECONDS * 1000);
    expect((await view(w.deviceId)).workerVersion).toBe("0.1.0");
    // Within the grace period it earns like any other device.
    expect(await waitFor("an up-minute", async () => (await upMinutes(w.deviceId)) > 0)).toBe(true);
    await w.handle.stop();
  });

  it("keeps a worker past its grace period connected and online, but credits it no up-minute", async () => {
    const enrolled = await enrollSimulated(t, supplier.key);
    // First seen outdated two grace periods ago (the domain function with an earlier clock).
    await recordWorkerVersion(
      t.server.ctx.db,
      enrolled.deviceId,
      "0.1.0",
      { minVersion: "0.2.0", graceSeconds: GRACE_SECONDS },
      new Date(Date.now() - 2 * GRACE_SECONDS * 1000),
    );
    const w = await startTestWorker(t, supplier.key, { stateDir: enrolled.stateDir, workerVersion: "0.1.0" });
    const notice = await waitFor("the outdated notice", () =>
      w.received.find((m) => m.type === "worker.notice"),
    );
    expect(notice).toMatchObject({ code: "worker_outdated", earningUntil: null });
    const seen = await waitFor("heartbeats stored", async () => {
      const v = await view(enrolled.deviceId);
      return v.lastSeenAt && v.status === "online" ? v : undefined;
    });
    expect(seen.outdated).toMatchObject({ earning: false });
    // Last-seen and marks are written by the same flush: a credited minute would be stored by now.
    expect(await upMinutes(enrolled.deviceId)).toBe(0);
    expect(w.handle.stats()).toMatchObject({ online: true, refusals: 0 });
    await w.handle.stop();
  });

  it("clears the state once the worker runs the minimum release, and pays it again", async () => {
    const enrolled = await enrollSimulated(t, supplier.key);
    const old = await startTestWorker(t, supplier.key, {
      stateDir: enrolled.stateDir,
      workerVersion: "0.1.0",
    });
    await waitFor("outdated", async () => (await view(enrolled.deviceId)).outdated);
    await old.handle.stop();
    const updated = await startTestWorker(t, supplier.key, {
      stateDir: enrolled.stateDir,
      workerVersion: "0.2.0",
    });
    const v = await waitFor("the new release recorded", async () => {
      const current = await view(enrolled.deviceId);
      return current.workerVersion === "0.2.0" ? current : undefined;
    });
    expect(v.outdated).toBeNull();
    expect(updated.received.some((m) => m.type === "worker.notice")).toBe(false);
    await updated.handle.stop();
  });
});
