import { afterAll, beforeAll, expect, it } from "vitest";
import { simulatedClaim } from "../../../cli/src/hardware/detect.js";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import { call, cleanupStateDirs, startTestWorker, userWithKey } from "../testing/worker-fixture.js";

const load = { cpuPercent: 1, memUsedGb: 1, gpus: [], busy: false };

describeEachDialect("attacks over worker sessions", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  // The gateway's clock: real time, unless a test holds it still to count frames against a rate exactly.
  let heldAt: number | undefined;
  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      env: { IGNIS_HEARTBEAT_SECONDS: "0.2", IGNIS_UPTIME_FLUSH_SECONDS: "0.1" },
      overrides: { gatewayClock: () => heldAt ?? Date.now() },
    });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  const record = (id: string) =>
    t.server.ctx.db.selectFrom("devices").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const refusals = (actor: string) =>
    t.server.ctx.db
      .selectFrom("audit_log")
      .select(["action", "object_id", "outcome"])
      .where("actor_id", "=", actor)
      .where("outcome", "=", "refused:forbidden")
      .execute();

  it("refuses metadata that names another device, leaves that device unchanged and audits the attempt", async () => {
    const a = await startTestWorker(t, supplier.key);
    const b = await startTestWorker(t, supplier.key, { profile: "sim-rtx4090" });
    const before = await record(b.deviceId);
    a.handle.send({ type: "metadata.update", deviceId: b.deviceId, hardware: simulatedClaim("sim-h100") });
    await waitFor("an audited refusal", async () => (await refusals(a.deviceId)).length > 0);
    expect(await refusals(a.deviceId)).toEqual([
      { action: "device.metadata.update", object_id: b.deviceId, outcome: "refused:forbidden" },
    ]);
    const after = await record(b.deviceId);
    expect(after.gpu_model).toBe(before.gpu_model);
    expect(after.hardware).toEqual(before.hardware);
    await waitFor("the forbidden session error", () =>
      a.received.some((m) => m.type === "session.error" && m.code === "forbidden"),
    );
    await a.handle.stop();
    await b.handle.stop();
  });

  it("refuses a heartbeat that names another device and counts no minute for it", async () => {
    const a = await startTestWorker(t, supplier.key);
    const b = await startTestWorker(t, supplier.key, { waitOnline: false });
    await b.handle.stop();
    await t.server.ctx.uptime.flush();
    const minutesOfB = async () =>
      (
        await t.server.ctx.db
          .selectFrom("uptime")
          .select("minute_mask")
          .where("device_id", "=", b.deviceId)
          .execute()
      ).map((r) => r.minute_mask);
    const beforeB = await minutesOfB();
    a.handle.send({ type: "heartbeat", seq: 999, deviceId: b.deviceId, load });
    await waitFor("the audited heartbeat refusal", async () =>
      (await refusals(a.deviceId)).some((r) => r.action === "device.heartbeat"),
    );
    await t.server.ctx.uptime.flush();
    expect(await minutesOfB()).toEqual(beforeB);
    await a.handle.stop();
  });

  it("lets a device update its own metadata within the schema, resets verification on a new GPU, and audits it", async () => {
    const w = await startTestWorker(t, supplier.key, { profile: "sim-a100" });
    await t.server.ctx.db
      .updateTable("devices")
      .set({ verification: "verified" })
      .where("id", "=", w.deviceId)
      .execute();
    w.handle.send({ type: "metadata.update", hardware: simulatedClaim("sim-h100") });
    await waitFor("the device's new GPU model in its row", () => record(w.deviceId), {
      until: (d) => d.gpu_model === "NVIDIA H100 (simulated)",
    });
    // The proof service may verify the new GPU right away; the audit record says the old verification was reset.
    const audit = await waitFor("the audited metadata update", () =>
      t.server.ctx.db
        .selectFrom("audit_log")
        .select(["actor_type", "outcome", "details"])
        .where("object_id", "=", w.deviceId)
        .where("action", "=", "device.metadata.update")
        .executeTakeFirst(),
    );
    expect(audit).toMatchObject({
      actor_type: "device",
      outcome: "ok",
      details: { verificationReset: true },
    });
    // Out of schema: refused, the session stays up, the record is unchanged.
    w.handle.send({
      type: "metadata.update",
      hardware: { ...simulatedClaim("sim-h100"), ownerId: "usr_x" },
    } as never);
    await waitFor("the unknown_field session error", () =>
      w.received.some((m) => m.type === "session.error" && m.code === "unknown_field"),
    );
    expect(w.handle.stats().online).toBe(true);
    await w.handle.stop();
  });

  it("throttles a flood of heartbeats above the allowed rate without affecting other devices", async () => {
    const flooder = await startTestWorker(t, supplier.key);
    const honest = await startTestWorker(t, supplier.key);
    // The gateway's clock stands still while the flood arrives, so no token refills however slowly this machine
    // delivers it: 100 heartbeats within one instant, against one per 0.2 s allowed with a burst of 10.
    const before = t.server.ctx.gateway.stats();
    heldAt = Date.now();
    try {
      for (let i = 0; i < 100; i++) flooder.handle.send({ type: "heartbeat", seq: 10_000 + i, load });
      // At most the burst of 10 gets through (fewer if the flooder's own heartbeats took some tokens).
      await waitFor(
        "90 of the 100 heartbeats dropped",
        () => t.server.ctx.gateway.stats().throttled - before.throttled >= 90,
      );
    } finally {
      heldAt = undefined;
    }
    await waitFor("the flooder told it is rate limited", () =>
      flooder.received.some((m) => m.type === "session.error" && m.code === "rate_limited"),
    );
    expect(honest.received.some((m) => m.type === "session.error")).toBe(false);
    expect(honest.handle.stats().online).toBe(true);
    const statuses = await call<{ status: string }>(t, "GET", `/v1/devices/${honest.deviceId}`, supplier.key);
    expect(statuses.body.status).toBe("online");
    await flooder.handle.stop();
    await honest.handle.stop();
  });
});
