import { sessionSigningText } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DeviceKey, signText } from "../../../cli/src/worker/device-key.js";
import { readDeviceKey } from "../../../cli/src/worker/worker-state.js";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { openRawWorkerSocket } from "./raw-worker-socket.js";
import {
  call,
  cleanupStateDirs,
  enrollSimulated,
  eventually,
  startTestWorker,
  userWithKey,
} from "./worker-fixture.js";

const OVERLAP_SECONDS = 3;

describeEachDialect("key rotation", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: { IGNIS_HEARTBEAT_SECONDS: "0.2", IGNIS_KEY_OVERLAP_SECONDS: String(OVERLAP_SECONDS) },
    });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  /** Opens a session with a given key; resolves with the first answer's type (hello or error code). */
  const handshake = async (deviceId: string, key: DeviceKey) => {
    const raw = await openRawWorkerSocket(t.url);
    const { nonce } = await raw.nextOf("session.challenge");
    raw.send({
      type: "session.auth",
      deviceId,
      publicKey: key.publicKey,
      signature: signText(key, sessionSigningText(nonce, deviceId, t.url)),
    });
    const answer = await raw.next();
    raw.ws.close();
    return answer.type === "session.error" ? answer.code : answer.type;
  };
  const keysOf = (deviceId: string) =>
    t.server.ctx.db
      .selectFrom("device_keys")
      .select(["public_key", "state", "retire_at"])
      .where("device_id", "=", deviceId)
      .orderBy("created_at")
      .execute();
  const migrate = (secondsFromNow: number) =>
    call<{ id: string; devicesNotified: number }>(t, "POST", "/v1/admin/key-migrations", t.adminKey, {
      rotateBy: new Date(Date.now() + secondsFromNow * 1000).toISOString(),
    });

  it("rotates a connected device's key in-band when a fleet migration starts; both keys work during the overlap", async () => {
    const w = await startTestWorker(t, supplier.key);
    const oldKey = readDeviceKey(w.stateDir);
    const res = await migrate(8);
    expect(res.status).toBe(201);
    expect(res.body.devicesNotified).toBeGreaterThanOrEqual(1);
    await eventually(() => w.handle.stats().rotations === 1);
    const newKey = readDeviceKey(w.stateDir);
    expect(newKey.publicKey).not.toBe(oldKey.publicKey);
    const keys = await keysOf(w.deviceId);
    expect(keys.map((k) => [k.public_key, k.state])).toEqual([
      [oldKey.publicKey, "retiring"],
      [newKey.publicKey, "active"],
    ]);
    expect(w.handle.stats().online).toBe(true);
    await w.handle.stop();
    expect(await handshake(w.deviceId, oldKey)).toBe("session.hello");
    expect(await handshake(w.deviceId, newKey)).toBe("session.hello");
  });

  it("retires the old key once the overlap window has passed", async () => {
    const w = await startTestWorker(t, supplier.key);
    const oldKey = readDeviceKey(w.stateDir);
    await migrate(8);
    await eventually(() => w.handle.stats().rotations === 1);
    await new Promise((r) => setTimeout(r, OVERLAP_SECONDS * 1000 + 200));
    expect(await handshake(w.deviceId, oldKey)).toBe("handshake_failed");
    expect((await keysOf(w.deviceId))[0]?.state).toBe("retired");
    // The worker itself reconnects with its new key.
    await t.server.ctx.gateway.disconnect(w.deviceId, "maintenance");
    await eventually(() => w.handle.stats().sessions >= 2);
    await w.handle.stop();
  });

  it("refuses a rotation not signed by the new key, keeping the session and the old key", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    const key = readDeviceKey(stateDir);
    const raw = await openRawWorkerSocket(t.url);
    const { nonce } = await raw.nextOf("session.challenge");
    raw.send({
      type: "session.auth",
      deviceId,
      publicKey: key.publicKey,
      signature: signText(key, sessionSigningText(nonce, deviceId, t.url)),
    });
    await raw.nextOf("session.hello");
    const stranger = readDeviceKey((await enrollSimulated(t, supplier.key)).stateDir);
    raw.send({
      type: "key.rotate",
      newPublicKey: stranger.publicKey,
      signatureOld: signText(key, "anything"),
      signatureNew: signText(stranger, "anything"),
    });
    expect(await raw.nextOf("session.error")).toMatchObject({ code: "key_rotation_failed", fatal: false });
    expect((await keysOf(deviceId)).map((k) => k.state)).toEqual(["active"]);
    raw.ws.close();
  });

  it("lets a device that was offline when the migration started connect with its old key and rotate in the grace period", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    await migrate(8);
    const w = await startTestWorker(t, supplier.key, { stateDir });
    await eventually(() => w.handle.stats().rotations === 1);
    expect((await keysOf(deviceId)).map((k) => k.state)).toEqual(["retiring", "active"]);
    await w.handle.stop();
  });

  // Last: this migration's deadline passes, which retires every key made before it.
  it("refuses a key that was not rotated by the migration's deadline", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    const key = readDeviceKey(stateDir);
    await migrate(1);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await handshake(deviceId, key)).toBe("handshake_failed");
    const list = await call<{ items: Array<{ devicesPending: number }> }>(
      t,
      "GET",
      "/v1/admin/key-migrations",
      t.adminKey,
    );
    expect(list.body.items[0]?.devicesPending).toBeGreaterThanOrEqual(1);
  });

  it("refuses key migrations to non-admins and deadlines in the past", async () => {
    const res = await call(t, "POST", "/v1/admin/key-migrations", supplier.key, {
      rotateBy: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(res.status).toBe(403);
    const past = await migrate(-10);
    expect(past.status).toBe(400);
  });
});
