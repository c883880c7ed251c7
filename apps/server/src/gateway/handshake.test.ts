import { afterAll, beforeAll, expect, it } from "vitest";
import { generateDeviceKey } from "../../../cli/src/worker/device-key.js";
import { readDeviceKey } from "../../../cli/src/worker/worker-state.js";
import { verifyAuditChain } from "../security/audit-log.js";
import { describeEachDialect } from "../testing/dialects.js";
import { openDeviceSession } from "../testing/raw-worker-socket.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import { call, cleanupStateDirs, enrollSimulated, userWithKey } from "../testing/worker-fixture.js";
import { HandshakeReader } from "./handshake.js";

describeEachDialect("handshake refusals", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  beforeAll(async () => {
    t = await startTestServer({ database: database() });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  /** Opens a session as `deviceId` with `key`; returns what the worker is told and the close code. */
  const attempt = async (deviceId: string, key: ReturnType<typeof generateDeviceKey>) => {
    const { raw, answer } = await openDeviceSession(t.url, deviceId, key);
    return { answer, closeCode: await raw.closed };
  };
  const reasonsFor = (deviceId: string) =>
    waitFor("the audited session opens of the device", async () => {
      const rows = await t.server.ctx.db
        .selectFrom("audit_log")
        .select(["outcome", "details"])
        .where("action", "=", "device.session.open")
        .where("object_id", "=", deviceId)
        .execute();
      return rows.length > 0 ? rows : undefined;
    });

  it("answers unknown, revoked and wrong-key devices identically, and gives the real reason to the audit log and the owner", async () => {
    const revoked = await enrollSimulated(t, supplier.key);
    expect((await call(t, "POST", `/v1/devices/${revoked.deviceId}/revoke`, supplier.key)).status).toBe(200);
    const known = await enrollSimulated(t, supplier.key);
    const unknownId = "dev_00000000000000000000000000";

    const answers = [
      await attempt(unknownId, generateDeviceKey()),
      await attempt(revoked.deviceId, readDeviceKey(revoked.stateDir)),
      await attempt(known.deviceId, generateDeviceKey()),
    ];
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(answers[0]).toEqual({
      answer: {
        type: "session.error",
        code: "handshake_failed",
        message: "the device could not be authenticated",
        fatal: true,
      },
      closeCode: 4401,
    });

    expect(await reasonsFor(unknownId)).toEqual([
      { outcome: "refused:handshake_failed", details: expect.objectContaining({ reason: "unknown_device" }) },
    ]);
    expect(await reasonsFor(revoked.deviceId)).toEqual([
      { outcome: "refused:handshake_failed", details: expect.objectContaining({ reason: "revoked_device" }) },
    ]);
    expect(await reasonsFor(known.deviceId)).toEqual([
      { outcome: "refused:handshake_failed", details: expect.objectContaining({ reason: "unknown_key" }) },
    ]);
    // The owner of a known device learns why its openers were refused.
    const ownerView = async (id: string) =>
      (
        await call<{ refusedSessions: Array<{ reason: string }> }>(
          t,
          "GET",
          `/v1/devices/${id}`,
          supplier.key,
        )
      ).body.refusedSessions;
    expect(await ownerView(revoked.deviceId)).toEqual([{ at: expect.any(String), reason: "revoked_device" }]);
    expect(await ownerView(known.deviceId)).toEqual([{ at: expect.any(String), reason: "unknown_key" }]);
  });

  it("reads openers that arrive together in one batch, each answered only for its own device's key", async () => {
    const a = await enrollSimulated(t, supplier.key);
    const b = await enrollSimulated(t, supplier.key);
    const revoked = await enrollSimulated(t, supplier.key);
    expect((await call(t, "POST", `/v1/devices/${revoked.deviceId}/revoke`, supplier.key)).status).toBe(200);
    const keyA = readDeviceKey(a.stateDir).publicKey;
    const keyB = readDeviceKey(b.stateDir).publicKey;
    const reader = new HandshakeReader(t.server.ctx.db);
    // Asked in one turn: the first read goes alone, the rest wait for it and go together in one statement.
    const [first, ownA, aWithB, bWithA, ownB, gone, unknown] = await Promise.all([
      reader.read({ deviceId: b.deviceId, publicKey: keyB }),
      reader.read({ deviceId: a.deviceId, publicKey: keyA }),
      reader.read({ deviceId: a.deviceId, publicKey: keyB }),
      reader.read({ deviceId: b.deviceId, publicKey: keyA }),
      reader.read({ deviceId: b.deviceId, publicKey: keyB }),
      reader.read({ deviceId: revoked.deviceId, publicKey: readDeviceKey(revoked.stateDir).publicKey }),
      reader.read({ deviceId: "dev_00000000000000000000000000", publicKey: keyA }),
    ]);
    expect(first).toMatchObject({ id: b.deviceId, key_public_key: keyB, key_state: "active" });
    expect(ownA).toMatchObject({ id: a.deviceId, key_public_key: keyA, key_state: "active" });
    expect(ownB).toEqual(first);
    // Another device's key, even one read in the same statement, is no key of this device.
    expect(aWithB).toMatchObject({ id: a.deviceId, key_id: null, key_public_key: null });
    expect(bWithA).toMatchObject({ id: b.deviceId, key_id: null, key_public_key: null });
    // A revoked device's keys are retired at once, and the read is never cached: the next opener sees it.
    expect(gone).toMatchObject({ id: revoked.deviceId, status: "revoked", key_state: "retired" });
    expect(unknown).toBeUndefined();

    // The same batching over real sockets: all of them at once, each told only what its own opener earns.
    const opened = await Promise.all([
      openDeviceSession(t.url, a.deviceId, readDeviceKey(a.stateDir)),
      // b's own key, validly signed, opening as a: refused though b's key is read in the same statement.
      openDeviceSession(t.url, a.deviceId, readDeviceKey(b.stateDir)),
      openDeviceSession(t.url, revoked.deviceId, readDeviceKey(revoked.stateDir)),
    ]);
    expect(opened.map((o) => o.answer.type)).toEqual(["session.hello", "session.error", "session.error"]);
    for (const o of opened) o.raw.ws.close();
  });

  it("keeps the audit chain intact through all of it", async () => {
    expect(await verifyAuditChain(database().db)).toMatchObject({ ok: true });
  });
});
