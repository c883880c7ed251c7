import { sessionSigningText } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { signText } from "../../../cli/src/worker/device-key.js";
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
import { epochOf, slotsOfMask } from "../uptime/minute-slots.js";

describeEachDialect("worker sessions", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: { IGNIS_HEARTBEAT_SECONDS: "0.2", IGNIS_EPOCH_SECONDS: "60", IGNIS_UPTIME_FLUSH_SECONDS: "0.1" },
    });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  const device = async (id: string) =>
    (
      await call<{ status: string; connected: boolean; lastSeenAt: string | null }>(
        t,
        "GET",
        `/v1/devices/${id}`,
        supplier.key,
      )
    ).body;

  it("brings an enrolled simulated device online and records its up-minutes in batches", async () => {
    const before = Date.now();
    const w = await startTestWorker(t, supplier.key, { profile: "sim-a100" });
    await waitFor("the device online", () => device(w.deviceId), { until: (d) => d.status === "online" });
    expect(w.received.find((m) => m.type === "session.hello")).toMatchObject({
      type: "session.hello",
      deviceId: w.deviceId,
      heartbeatSeconds: 0.2,
    });
    const row = await waitFor("the device's uptime row", () =>
      t.server.ctx.db.selectFrom("uptime").selectAll().where("device_id", "=", w.deviceId).executeTakeFirst(),
    );
    // The first stored epoch is the one the first heartbeat fell in (the test may straddle a minute boundary).
    expect(Number(row!.epoch)).toBeGreaterThanOrEqual(epochOf(before, 60));
    expect(Number(row!.epoch)).toBeLessThanOrEqual(epochOf(Date.now(), 60));
    expect(slotsOfMask(row!.minute_mask).length).toBe(row!.up_minutes);
    expect(row!.up_minutes).toBeGreaterThanOrEqual(1);
    // Where the session comes from is kept for cluster rendezvous, and nowhere in the owner's view.
    const { session_address } = await t.server.ctx.db
      .selectFrom("devices")
      .select("session_address")
      .where("id", "=", w.deviceId)
      .executeTakeFirstOrThrow();
    expect(session_address).toBe("127.0.0.1");
    expect(JSON.stringify(await device(w.deviceId))).not.toContain("127.0.0.1");
    await w.handle.stop();
  });

  it("marks a device offline two heartbeat intervals after its last heartbeat", async () => {
    const w = await startTestWorker(t, supplier.key);
    await waitFor("the device online", () => device(w.deviceId), { until: (d) => d.status === "online" });
    await w.handle.stop();
    const stoppedAt = Date.now();
    await waitFor("the device offline", () => device(w.deviceId), {
      until: (d) => d.status === "offline",
      timeoutMs: 5000,
    });
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(300);
    expect((await device(w.deviceId)).connected).toBe(false);
  });

  it("reconnects on its own after the server drops the session, and comes back online", async () => {
    const w = await startTestWorker(t, supplier.key);
    await t.server.ctx.gateway.disconnect(w.deviceId, "maintenance");
    await waitFor("the worker's second session", () => w.handle.stats().sessions >= 2);
    expect(t.server.ctx.gateway.isConnected(w.deviceId)).toBe(true);
    await w.handle.stop();
  });

  it("acknowledges the heartbeats that ask, an ack of seq N answering every earlier ask", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    const { raw, answer } = await openDeviceSession(t.url, deviceId, readDeviceKey(stateDir));
    expect(answer.type).toBe("session.hello");
    const load = { cpuPercent: 1, memUsedGb: 1, gpus: [], busy: false };
    raw.send({ type: "heartbeat", seq: 0, ack: true, load });
    raw.send({ type: "heartbeat", seq: 1, ack: false, load });
    raw.send({ type: "heartbeat", seq: 2, ack: true, load });
    const acked: number[] = [];
    while (!acked.includes(2)) acked.push((await raw.nextOf("heartbeat.ack")).seq);
    // One ack per ask, or fewer when the asks arrived in the same turn; never one for a heartbeat that did not ask.
    expect(acked.length).toBeLessThanOrEqual(2);
    expect(acked).not.toContain(1);
    raw.ws.close();
  });

  it("refuses a handshake replayed with an old nonce and signature", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    const key = readDeviceKey(stateDir);
    const first = await openRawWorkerSocket(t.url);
    const challenge = await first.nextOf("session.challenge");
    const auth = {
      type: "session.auth" as const,
      deviceId,
      publicKey: key.publicKey,
      signature: signText(key, sessionSigningText(challenge.nonce, deviceId, t.url)),
    };
    first.send(auth);
    expect((await first.next()).type).toBe("session.hello");
    first.ws.close();

    const replay = await openRawWorkerSocket(t.url);
    const fresh = await replay.nextOf("session.challenge");
    expect(fresh.nonce).not.toBe(challenge.nonce);
    replay.send(auth);
    expect(await replay.nextOf("session.error")).toMatchObject({ code: "handshake_failed", fatal: true });
    expect(await replay.closed).toBe(4401);
  });

  it("refuses a signature made with another device's key", async () => {
    const a = await enrollSimulated(t, supplier.key);
    const b = await enrollSimulated(t, supplier.key);
    const keyA = readDeviceKey(a.stateDir);
    const raw = await openRawWorkerSocket(t.url);
    const { nonce } = await raw.nextOf("session.challenge");
    // Device A's key claims to be device B: B does not own that key.
    raw.send({
      type: "session.auth",
      deviceId: b.deviceId,
      publicKey: keyA.publicKey,
      signature: signText(keyA, sessionSigningText(nonce, b.deviceId, t.url)),
    });
    expect(await raw.nextOf("session.error")).toMatchObject({ code: "handshake_failed", fatal: true });
    // B's own public key with A's signature fails the signature check.
    const keyB = readDeviceKey(b.stateDir);
    const raw2 = await openRawWorkerSocket(t.url);
    const c2 = await raw2.nextOf("session.challenge");
    raw2.send({
      type: "session.auth",
      deviceId: b.deviceId,
      publicKey: keyB.publicKey,
      signature: signText(keyA, sessionSigningText(c2.nonce, b.deviceId, t.url)),
    });
    expect(await raw2.nextOf("session.error")).toMatchObject({ code: "handshake_failed" });
    expect((await device(b.deviceId)).status).toBe("pending");
  });

  it("refuses a signature over another server's origin (a relayed nonce)", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    const key = readDeviceKey(stateDir);
    const raw = await openRawWorkerSocket(t.url);
    const { nonce } = await raw.nextOf("session.challenge");
    raw.send({
      type: "session.auth",
      deviceId,
      publicKey: key.publicKey,
      signature: signText(key, sessionSigningText(nonce, deviceId, "https://evil.example")),
    });
    expect(await raw.nextOf("session.error")).toMatchObject({ code: "handshake_failed" });
  });

  it("refuses frames before authentication, wrong versions and unknown fields", async () => {
    const raw = await openRawWorkerSocket(t.url);
    await raw.nextOf("session.challenge");
    // A version that is no number is a bad frame; an unsupported number closes the session (protocol-negotiation.test.ts).
    raw.send({ v: "2", type: "heartbeat" });
    expect(await raw.nextOf("session.error")).toMatchObject({ code: "bad_request", fatal: false });
    raw.send({ type: "heartbeat", seq: 0, load: { cpuPercent: 1, memUsedGb: 1, gpus: [], busy: false } });
    expect(await raw.nextOf("session.error")).toMatchObject({ code: "handshake_failed", fatal: true });
    expect(await raw.closed).toBe(4401);
    const audit = await waitFor("the audited refused frame", () =>
      t.server.ctx.db
        .selectFrom("audit_log")
        .select(["outcome", "details"])
        .where("action", "=", "device.session.frame")
        .executeTakeFirst(),
    );
    expect(audit).toMatchObject({ outcome: "refused:handshake_failed", details: { type: "heartbeat" } });
  });
});
