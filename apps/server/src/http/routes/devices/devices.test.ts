import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../../testing/test-server.js";
import { waitFor } from "../../../testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  enrollSimulated,
  startTestWorker,
  userWithKey,
} from "../../../testing/worker-fixture.js";

type DeviceBody = { id: string; ownerId: string; label: string | null; status: string; code?: string };

describeEachDialect("device routes", (database) => {
  let t: TestServer;
  let alice: { userId: string; key: string };
  let bob: { userId: string; key: string };
  let alicesDevice: string;
  beforeAll(async () => {
    t = await startTestServer({ database: database(), env: { IGNIS_HEARTBEAT_SECONDS: "0.2" } });
    alice = await userWithKey(t);
    bob = await userWithKey(t);
    alicesDevice = (await enrollSimulated(t, alice.key, "sim-h100")).deviceId;
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  it("lists a supplier's own devices only", async () => {
    const bobs = await enrollSimulated(t, bob.key, "sim-rtx4090");
    const list = await call<{ items: DeviceBody[] }>(t, "GET", "/v1/devices", alice.key);
    expect(list.status).toBe(200);
    expect(list.body.items.map((d) => d.id)).toEqual([alicesDevice]);
    expect(list.body.items[0]).toMatchObject({ ownerId: alice.userId, status: "pending" });
    const bobList = await call<{ items: DeviceBody[] }>(t, "GET", "/v1/devices", bob.key);
    expect(bobList.body.items.map((d) => d.id)).toEqual([bobs.deviceId]);
  });

  it("answers 404 to a supplier reading or patching another supplier's device, exactly as for a missing one", async () => {
    const read = await call<DeviceBody>(t, "GET", `/v1/devices/${alicesDevice}`, bob.key);
    const missing = await call<DeviceBody>(t, "GET", "/v1/devices/dev_aaaaaaaaaaaaaaaaaaaaaaaaaa", bob.key);
    expect([read.status, read.body.code]).toEqual([404, "not_found"]);
    expect([missing.status, missing.body.code]).toEqual([404, "not_found"]);
    const patch = await call<DeviceBody>(t, "PATCH", `/v1/devices/${alicesDevice}`, bob.key, {
      label: "mine now",
    });
    expect([patch.status, patch.body.code]).toEqual([404, "not_found"]);
    const revoke = await call<DeviceBody>(t, "POST", `/v1/devices/${alicesDevice}/revoke`, bob.key);
    expect(revoke.status).toBe(404);
    const after = await call<DeviceBody>(t, "GET", `/v1/devices/${alicesDevice}`, alice.key);
    expect(after.body).toMatchObject({ label: null, status: "pending" });
  });

  it("lets the owner set a label and refuses any other field with 400 unknown_field", async () => {
    const ok = await call<DeviceBody>(t, "PATCH", `/v1/devices/${alicesDevice}`, alice.key, {
      label: "rack 3",
    });
    expect(ok.status).toBe(200);
    expect(ok.body.label).toBe("rack 3");
    for (const body of [
      { label: "x", ownerId: bob.userId },
      { status: "online" },
      { verification: "verified" },
      // A stolen owner key cannot make a device look freshly proven, so it earns without a challenge.
      { provenAt: new Date().toISOString() },
      { proven_at: new Date().toISOString() },
    ]) {
      const refused = await call<DeviceBody>(t, "PATCH", `/v1/devices/${alicesDevice}`, alice.key, body);
      expect([refused.status, refused.body.code]).toEqual([400, "unknown_field"]);
    }
    const after = await call<DeviceBody>(t, "GET", `/v1/devices/${alicesDevice}`, alice.key);
    expect(after.body).toMatchObject({ ownerId: alice.userId, label: "rack 3", status: "pending" });
  });

  it("lets an admin read any device", async () => {
    const res = await call<DeviceBody>(t, "GET", `/v1/devices/${alicesDevice}`, t.adminKey);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(alicesDevice);
  });

  it("audits a label change with the old value", async () => {
    const row = await t.server.ctx.db
      .selectFrom("audit_log")
      .select(["action", "actor_id", "details"])
      .where("object_id", "=", alicesDevice)
      .where("action", "=", "device.update")
      .where("outcome", "=", "ok")
      .executeTakeFirstOrThrow();
    expect(row.actor_id).toBe(alice.userId);
    expect(row.details).toMatchObject({ before: { label: null }, after: { label: "rack 3" } });
  });

  it("revokes a device: its session closes at once, it stays visible as revoked and can never reconnect", async () => {
    const w = await startTestWorker(t, alice.key);
    const res = await call<DeviceBody>(t, "POST", `/v1/devices/${w.deviceId}/revoke`, alice.key);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("revoked");
    const exit = await w.handle.done;
    expect(exit.reason).toBe("revoked");
    await waitFor(
      "the gateway to drop the revoked device",
      () => !t.server.ctx.gateway.isConnected(w.deviceId),
    );
    const list = await call<{ items: DeviceBody[] }>(t, "GET", "/v1/devices", alice.key);
    expect(list.body.items.find((d) => d.id === w.deviceId)?.status).toBe("revoked");

    // Reconnecting, it is told only what an unknown device is told (no oracle), and keeps retrying until stopped.
    const again = await startTestWorker(t, alice.key, { stateDir: w.stateDir, waitOnline: false });
    await waitFor("two refusals of the revoked device", () => again.handle.stats().refusals >= 2);
    expect(again.received.filter((m) => m.type === "session.error").map((m) => m.code)).toContain(
      "handshake_failed",
    );
    expect(again.handle.stats().sessions).toBe(0);
    await again.handle.stop();
    const keys = await t.server.ctx.db
      .selectFrom("device_keys")
      .select("state")
      .where("device_id", "=", w.deviceId)
      .execute();
    expect(keys.map((k) => k.state)).toEqual(["retired"]);
  });

  it("lets an admin revoke any device", async () => {
    const { deviceId } = await enrollSimulated(t, bob.key);
    const res = await call<DeviceBody>(t, "POST", `/v1/devices/${deviceId}/revoke`, t.adminKey);
    expect([res.status, res.body.status]).toEqual([200, "revoked"]);
    await waitFor(
      "the device revoked",
      async () =>
        (await call<DeviceBody>(t, "GET", `/v1/devices/${deviceId}`, bob.key)).body.status === "revoked",
    );
  });
});
