import { rotationSigningText, sessionSigningText } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DeviceKey, generateDeviceKey, signText } from "../../../cli/src/worker/device-key.js";
import { readDeviceKey } from "../../../cli/src/worker/worker-state.js";
import { describeEachDialect } from "../testing/dialects.js";
import { openDeviceSession, openRawWorkerSocket } from "../testing/raw-worker-socket.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  enrollSimulated,
  startTestWorker,
  userWithKey,
} from "../testing/worker-fixture.js";

const OVERLAP_SECONDS = 3;

describeEachDialect("key rotation", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  // The gateway's clock runs ahead of the real one by `ahead`: a test moves it on past an overlap window or a
  // deadline instead of sleeping through it.
  let ahead = 0;
  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: { IGNIS_HEARTBEAT_SECONDS: "0.2", IGNIS_KEY_OVERLAP_SECONDS: String(OVERLAP_SECONDS) },
      overrides: { gatewayClock: () => Date.now() + ahead },
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
    await waitFor("the worker's first key rotation", () => w.handle.stats().rotations === 1);
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
    await waitFor("the worker's first key rotation", () => w.handle.stats().rotations === 1);
    ahead += OVERLAP_SECONDS * 1000 + 200;
    expect(await handshake(w.deviceId, oldKey)).toBe("handshake_failed");
    expect((await keysOf(w.deviceId))[0]?.state).toBe("retired");
    // The worker itself reconnects with its new key.
    await t.server.ctx.gateway.disconnect(w.deviceId, "maintenance");
    await waitFor("the worker's second session on its new key", () => w.handle.stats().sessions >= 2);
    await w.handle.stop();
  });

  /** A raw session of a fresh device, and the rotation frame that moves it to `next` over that session. */
  const rawSession = async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    const key = readDeviceKey(stateDir);
    const { raw, nonce, answer } = await openDeviceSession(t.url, deviceId, key);
    expect(answer.type).toBe("session.hello");
    const rotation = (next: DeviceKey, sessionNonce = nonce) => {
      const text = rotationSigningText(sessionNonce, deviceId, key.publicKey, next.publicKey);
      return {
        type: "key.rotate" as const,
        newPublicKey: next.publicKey,
        signatureOld: signText(key, text),
        signatureNew: signText(next, text),
      };
    };
    return { deviceId, stateDir, key, raw, nonce, rotation };
  };
  const ownerAsks = async (deviceId: string) =>
    call<{ delivered: boolean }>(t, "POST", `/v1/devices/${deviceId}/rotate-key`, supplier.key);
  const rotationAudit = (deviceId: string) =>
    t.server.ctx.db
      .selectFrom("audit_log")
      .select(["outcome", "details"])
      .where("object_id", "=", deviceId)
      .where("action", "=", "device.key.rotate")
      .execute();

  it("refuses an unsolicited rotation, even a correctly signed one: closed, audited, alerted, keys unchanged", async () => {
    const s = await rawSession();
    s.raw.send(s.rotation(generateDeviceKey()));
    expect(await s.raw.nextOf("session.error")).toMatchObject({ code: "key_rotation_failed", fatal: true });
    expect(await s.raw.closed).toBe(4003);
    expect((await keysOf(s.deviceId)).map((k) => [k.public_key, k.state])).toEqual([
      [s.key.publicKey, "active"],
    ]);
    expect(
      await waitFor("the audited refusal of the unrequested rotation", () =>
        rotationAudit(s.deviceId).then((r) => r[0]),
      ),
    ).toMatchObject({
      outcome: "refused:key_rotation_failed",
      details: {
        reason: "not_requested",
        message: "no key rotation was asked of this session; keys rotate only on request",
      },
    });
    const alert = await waitFor("the security alert on the device", () =>
      t.server.ctx.db
        .selectFrom("security_alerts")
        .select(["rule", "containment"])
        .where("object_id", "=", s.deviceId)
        .executeTakeFirst(),
    );
    expect(alert).toEqual({ rule: "device.unsolicited_rotation", containment: { kind: "none" } });
  });

  it("refuses a replayed rotation, in the same session and in a later one", async () => {
    const s = await rawSession();
    expect((await ownerAsks(s.deviceId)).body.delivered).toBe(true);
    await s.raw.nextOf("key.rotate-request");
    const next = generateDeviceKey();
    const frame = s.rotation(next);
    s.raw.send(frame);
    expect(await s.raw.nextOf("key.rotated")).toMatchObject({ publicKey: next.publicKey });
    // Once answered, the request is spent: the same frame again is refused and changes nothing.
    s.raw.send(frame);
    expect(await s.raw.nextOf("session.error")).toMatchObject({ code: "key_rotation_failed", fatal: true });
    expect(await s.raw.closed).toBe(4003);
    const after = (await keysOf(s.deviceId)).map((k) => k.state);
    expect(after).toEqual(["retiring", "active"]);

    // A later session the owner asked to rotate: the old frame is signed over another session's nonce.
    const later = await openDeviceSession(t.url, s.deviceId, next);
    expect(later.answer.type).toBe("session.hello");
    await ownerAsks(s.deviceId);
    await later.raw.nextOf("key.rotate-request");
    later.raw.send(frame);
    expect(await later.raw.nextOf("session.error")).toMatchObject({
      code: "key_rotation_failed",
      message: "the rotation is not signed by the session's key",
    });
    expect(await later.raw.closed).toBe(4003);
    expect((await keysOf(s.deviceId)).map((k) => k.state)).toEqual(after);
  });

  it("refuses a rotation to a key another device uses, and one not signed by the new key", async () => {
    const s = await rawSession();
    const other = readDeviceKey((await enrollSimulated(t, supplier.key)).stateDir);
    await ownerAsks(s.deviceId);
    await s.raw.nextOf("key.rotate-request");
    s.raw.send(s.rotation(other));
    expect(await s.raw.nextOf("session.error")).toMatchObject({
      code: "key_rotation_failed",
      message: "the new public key is already registered to a device",
    });
    expect(await s.raw.closed).toBe(4003);

    const again = await openDeviceSession(t.url, s.deviceId, s.key);
    await ownerAsks(s.deviceId);
    await again.raw.nextOf("key.rotate-request");
    const stranger = generateDeviceKey();
    again.raw.send({ ...s.rotation(stranger, again.nonce), signatureNew: signText(stranger, "anything") });
    expect(await again.raw.nextOf("session.error")).toMatchObject({
      message: "the rotation is not signed by the new key",
    });
    expect((await keysOf(s.deviceId)).map((k) => k.state)).toEqual(["active"]);
    const audited = await waitFor("both rotation audit rows", async () => {
      const rows = await rotationAudit(s.deviceId);
      return rows.length === 2 ? rows : undefined;
    });
    expect(audited?.map((r) => r.outcome)).toEqual([
      "refused:key_rotation_failed",
      "refused:key_rotation_failed",
    ]);
  });

  it("rotates when the owner asks, over the live session, without losing a minute", async () => {
    const w = await startTestWorker(t, supplier.key);
    const oldKey = readDeviceKey(w.stateDir);
    const res = await ownerAsks(w.deviceId);
    expect(res.status).toBe(202);
    expect(res.body.delivered).toBe(true);
    await waitFor("the worker's first key rotation", () => w.handle.stats().rotations === 1, {
      timeoutMs: 15_000,
    });
    // The same session carried on: never closed, heartbeats still answered on the new key.
    const beats = w.handle.stats().heartbeats;
    await waitFor("three heartbeats on the new key", () => w.handle.stats().heartbeats >= beats + 3);
    expect(w.handle.stats()).toMatchObject({ sessions: 1, refusals: 0, online: true });
    expect(readDeviceKey(w.stateDir).publicKey).not.toBe(oldKey.publicKey);
    const audit = await rotationAudit(w.deviceId);
    expect(audit).toEqual([{ outcome: "ok", details: expect.objectContaining({ requestId: "owner" }) }]);
    const pending = await t.server.ctx.db
      .selectFrom("devices")
      .select("rotation_requested_at")
      .where("id", "=", w.deviceId)
      .executeTakeFirstOrThrow();
    expect(pending.rotation_requested_at).toBeNull();
    await w.handle.stop();
  });

  it("lets a device that was offline when the migration started connect with its old key and rotate in the grace period", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    await migrate(8);
    const w = await startTestWorker(t, supplier.key, { stateDir });
    await waitFor("the worker's first key rotation", () => w.handle.stats().rotations === 1);
    expect((await keysOf(deviceId)).map((k) => k.state)).toEqual(["retiring", "active"]);
    await w.handle.stop();
  });

  // Last: this migration's deadline passes, which retires every key made before it.
  it("refuses a key that was not rotated by the migration's deadline", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    const key = readDeviceKey(stateDir);
    await migrate(1);
    ahead += 1200;
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
