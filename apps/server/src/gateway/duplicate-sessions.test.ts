import type { DeviceView } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { readDeviceKey } from "../../../cli/src/worker/worker-state.js";
import { describeEachDialect } from "../testing/dialects.js";
import { openDeviceSession } from "../testing/raw-worker-socket.js";
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

describeEachDialect("duplicate sessions", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  let stranger: { userId: string; key: string };
  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: { IGNIS_HEARTBEAT_SECONDS: "0.2", IGNIS_UPTIME_FLUSH_SECONDS: "0.1" },
    });
    supplier = await userWithKey(t);
    stranger = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  const device = async (id: string) =>
    (await call<DeviceView>(t, "GET", `/v1/devices/${id}`, supplier.key)).body;
  const alertsOf = (id: string) =>
    t.server.ctx.db
      .selectFrom("security_alerts")
      .select(["rule", "evidence", "containment"])
      .where("object_id", "=", id)
      .execute();
  const minutesOf = async (id: string) => {
    await t.server.ctx.uptime.flush();
    const rows = await t.server.ctx.db
      .selectFrom("uptime")
      .select(["epoch", "minute_mask"])
      .where("device_id", "=", id)
      .orderBy("epoch")
      .execute();
    return rows.map((r) => `${r.epoch}:${r.minute_mask}`);
  };
  const refusedWith = (w: TestWorker, code: string) =>
    w.received.some((m) => m.type === "session.error" && m.code === code);

  it("puts a device in conflict when a copy of its key runs beside the real worker: both refused, an alert, no credit", async () => {
    const lines: string[] = [];
    const real = await startTestWorker(t, supplier.key, { log: (line) => lines.push(line) });
    await waitFor("the device online", () => device(real.deviceId), { until: (d) => d.status === "online" });
    const copy = await startTestWorker(t, supplier.key, { stateDir: real.stateDir, waitOnline: false });

    await waitFor("the device in conflict", () => device(real.deviceId), {
      until: (d) => d.status === "conflict",
    });
    const view = await device(real.deviceId);
    expect(view.conflict?.peers).toEqual(["127.0.0.1", "127.0.0.1"]);
    // The public sees an offline device, not a compromised key.
    const publicView = await call<{ status: string }>(t, "GET", `/v1/explorer/devices/${real.deviceId}`);
    expect(publicView.body.status).toBe("offline");
    await waitFor("the gateway to drop the device", () => !t.server.ctx.gateway.isConnected(real.deviceId));
    // Both were told why, in the same words, and both keep retrying (neither exits), refused each time.
    await waitFor(
      "three refusals of each copy",
      () => real.handle.stats().refusals >= 3 && copy.handle.stats().refusals >= 3,
    );
    expect(refusedWith(real, "device_conflict")).toBe(true);
    expect(refusedWith(copy, "device_conflict")).toBe(true);
    expect(copy.handle.stats().sessions).toBe(0);
    expect(lines.some((l) => l.includes("another machine is using this device's key"))).toBe(true);

    const alert = await waitFor("the duplicate-session alert", async () =>
      (await alertsOf(real.deviceId)).find((a) => a.rule === "device.duplicate_session"),
    );
    expect(alert?.evidence).toEqual({ peers: ["127.0.0.1", "127.0.0.1"] });
    expect(alert?.containment).toEqual({ kind: "none" });
    const audit = await t.server.ctx.db
      .selectFrom("audit_log")
      .select(["outcome", "details"])
      .where("object_id", "=", real.deviceId)
      .where("action", "=", "device.duplicate_session")
      .executeTakeFirstOrThrow();
    expect(audit.outcome).toBe("refused:device_conflict");

    // Neither is credited while the conflict lasts: no heartbeat reaches the server, no minute is added.
    const minutes = await minutesOf(real.deviceId);
    const beats = real.handle.stats().heartbeats + copy.handle.stats().heartbeats;
    const refusals = real.handle.stats().refusals;
    await waitFor("two more refusals", () => real.handle.stats().refusals >= refusals + 2);
    expect(real.handle.stats().heartbeats + copy.handle.stats().heartbeats).toBe(beats);
    expect(await minutesOf(real.deviceId)).toEqual(minutes);
    expect(t.server.ctx.gateway.isConnected(real.deviceId)).toBe(false);

    // The owner stops the copy and keeps the real machine: it comes back and rotates its key away from the copy.
    await copy.handle.stop();
    const notYours = await call(t, "POST", `/v1/devices/${real.deviceId}/resolve-conflict`, stranger.key, {
      action: "keep",
    });
    expect(notYours.status).toBe(404);
    const kept = await call<DeviceView>(
      t,
      "POST",
      `/v1/devices/${real.deviceId}/resolve-conflict`,
      supplier.key,
      { action: "keep" },
    );
    expect(kept.status).toBe(200);
    expect(kept.body.conflict).toBeNull();
    const oldKey = readDeviceKey(real.stateDir);
    await waitFor(
      "the worker online after its key rotation",
      () => real.handle.stats().online && real.handle.stats().rotations === 1,
      { timeoutMs: 15_000 },
    );
    expect(readDeviceKey(real.stateDir).publicKey).not.toBe(oldKey.publicKey);
    expect((await device(real.deviceId)).status).toBe("online");
    const again = await call(t, "POST", `/v1/devices/${real.deviceId}/resolve-conflict`, supplier.key, {
      action: "keep",
    });
    expect(again.status).toBe(409);
    await real.handle.stop();
  });

  it("lets the owner end a conflict by revoking the device", async () => {
    const real = await startTestWorker(t, supplier.key);
    const copy = await startTestWorker(t, supplier.key, { stateDir: real.stateDir, waitOnline: false });
    await waitFor("the device in conflict", () => device(real.deviceId), {
      until: (d) => d.status === "conflict",
    });
    const res = await call<DeviceView>(
      t,
      "POST",
      `/v1/devices/${real.deviceId}/resolve-conflict`,
      supplier.key,
      { action: "revoke" },
    );
    expect(res.body.status).toBe("revoked");
    expect(res.body.keys.every((k) => k.state === "retired")).toBe(true);
    await real.handle.stop();
    await copy.handle.stop();
  });

  it("takes a quick restart of the real worker as a reconnect: online again, no conflict, no alert", async () => {
    const first = await startTestWorker(t, supplier.key);
    await first.handle.stop();
    const restarted = await startTestWorker(t, supplier.key, { stateDir: first.stateDir });
    await waitFor("the device online", () => device(first.deviceId), { until: (d) => d.status === "online" });
    expect(restarted.handle.stats().refusals).toBe(0);
    expect(await alertsOf(first.deviceId)).toEqual([]);
    await restarted.handle.stop();
  });

  it("lets a new session take over from an old one that no longer answers pings, with no alert", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    const stale = await openDeviceSession(t.url, deviceId, readDeviceKey(stateDir), { autoPong: false });
    expect(stale.answer.type).toBe("session.hello");
    const fresh = await startTestWorker(t, supplier.key, { stateDir });
    expect(await stale.raw.nextOf("session.error")).toMatchObject({ code: "session_replaced" });
    expect(await stale.raw.closed).toBe(4001);
    expect(fresh.handle.stats().online).toBe(true);
    expect((await device(deviceId)).status).toBe("online");
    expect(await alertsOf(deviceId)).toEqual([]);
    await fresh.handle.stop();
  });
});
