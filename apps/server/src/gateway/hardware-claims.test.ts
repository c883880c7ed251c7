import { afterAll, beforeAll, expect, it } from "vitest";
import { simulatedClaim } from "../../../cli/src/hardware/detect.js";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import { cleanupStateDirs, startTestWorker, userWithKey } from "../testing/worker-fixture.js";

describeEachDialect("hardware claims over a session", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      // Containment on: a claim must still not quarantine the device.
      env: { IGNIS_HEARTBEAT_SECONDS: "0.2", IGNIS_SECURITY_CONTAINMENT: "on" },
    });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  const record = (id: string) =>
    t.server.ctx.db
      .selectFrom("devices")
      .select(["status", "verification", "gpu_model"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();

  it("answers a changed GPU claim with a fresh proof and a paused hiring, never a quarantine", async () => {
    const w = await startTestWorker(t, supplier.key, { profile: "sim-a100" });
    await waitFor("the device to be verified", () => record(w.deviceId), {
      until: (d) => d.verification === "verified",
      timeoutMs: 20_000,
    });
    const challengesBefore = w.received.filter((m) => m.type === "proof.challenge").length;

    w.handle.send({ type: "metadata.update", hardware: simulatedClaim("sim-h100") });
    await waitFor("the device's new GPU model in its row", () => record(w.deviceId), {
      until: (d) => d.gpu_model === "NVIDIA H100 (simulated)",
    });
    // A fresh proof is asked for at once.
    await waitFor(
      "a fresh proof challenge after the hardware change",
      () => w.received.filter((m) => m.type === "proof.challenge").length > challengesBefore,
    );
    const alert = await waitFor("the security alert on the device", () =>
      t.server.ctx.db
        .selectFrom("security_alerts")
        .select(["rule", "containment", "contained"])
        .where("object_id", "=", w.deviceId)
        .executeTakeFirst(),
    );
    expect(alert).toEqual({ rule: "hardware_change", containment: { kind: "none" }, contained: false });
    expect((await record(w.deviceId)).status).not.toBe("quarantined");
    const audit = await waitFor("the audited metadata update", () =>
      t.server.ctx.db
        .selectFrom("audit_log")
        .select("details")
        .where("object_id", "=", w.deviceId)
        .where("action", "=", "device.metadata.update")
        .executeTakeFirst(),
    );
    // Verification was reset by the claim, so the device could not be hired until the new proof passed.
    expect(audit?.details).toMatchObject({ verificationReset: true });
    await w.handle.stop();
  });
});
