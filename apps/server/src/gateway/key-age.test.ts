import { afterAll, beforeAll, expect, it } from "vitest";
import { readDeviceKey } from "../../../cli/src/worker/worker-state.js";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import {
  cleanupStateDirs,
  enrollSimulated,
  startTestWorker,
  userWithKey,
} from "../testing/worker-fixture.js";

const MAX_AGE_SECONDS = 3600;

describeEachDialect("the key-age policy", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: { IGNIS_HEARTBEAT_SECONDS: "0.2", IGNIS_KEY_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS) },
    });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  const rotationsOf = (deviceId: string) =>
    t.server.ctx.db
      .selectFrom("audit_log")
      .select(["outcome", "details"])
      .where("object_id", "=", deviceId)
      .where("action", "=", "device.key.rotate")
      .execute();

  it("asks a device whose key is older than the policy allows to rotate when its session opens", async () => {
    const { deviceId, stateDir } = await enrollSimulated(t, supplier.key);
    const oldKey = readDeviceKey(stateDir);
    await t.server.ctx.db
      .updateTable("device_keys")
      .set({ created_at: new Date(Date.now() - (MAX_AGE_SECONDS + 60) * 1000) })
      .where("device_id", "=", deviceId)
      .execute();
    const w = await startTestWorker(t, supplier.key, { stateDir });
    await waitFor("the policy's key rotation", () => w.handle.stats().rotations === 1, { timeoutMs: 15_000 });
    expect(readDeviceKey(stateDir).publicKey).not.toBe(oldKey.publicKey);
    const audited = await waitFor("the audited rotation", async () => (await rotationsOf(deviceId))[0]);
    expect(audited).toMatchObject({ outcome: "ok", details: { requestId: "policy" } });
    await w.handle.stop();
  });

  it("leaves a younger key alone: no request, so a rotation would be refused", async () => {
    const w = await startTestWorker(t, supplier.key);
    await waitFor("three heartbeats", () => w.handle.stats().heartbeats >= 3);
    expect(w.received.some((m) => m.type === "key.rotate-request")).toBe(false);
    expect(await rotationsOf(w.deviceId)).toEqual([]);
    await w.handle.stop();
  });
});
