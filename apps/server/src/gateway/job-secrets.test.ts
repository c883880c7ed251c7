import type { JobStartMessage } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { markDeviceConflict } from "../devices/session-conflict.js";
import { inGoodStanding } from "../devices/standing.js";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import { cleanupStateDirs, startTestWorker, userWithKey } from "../testing/worker-fixture.js";

const start = (): JobStartMessage => ({
  type: "job.start",
  jobId: `job_${"a".repeat(26)}`,
  clusterId: `cls_${"b".repeat(26)}`,
  rank: 0,
  worldSize: 1,
  command: "python",
  args: ["train.py"],
  env: { HF_TOKEN: "customer-secret" },
  image: null,
  archive: null,
  deadline: new Date(Date.now() + 3_600_000).toISOString(),
  logLimitBytes: 1024,
});

describeEachDialect("job secrets", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      // No proof challenges: the device stays unverified until the test says otherwise.
      env: { IGNIS_HEARTBEAT_SECONDS: "0.2", IGNIS_CHALLENGE_MEAN_SECONDS: "86400" },
    });
    supplier = await userWithKey(t);
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
  });

  const setVerification = (id: string, verification: "verified" | "unverified") =>
    t.server.ctx.db.updateTable("devices").set({ verification }).where("id", "=", id).execute();

  it("withholds a job start, with the customer's variables, from a connected device whose proof is not current", async () => {
    const w = await startTestWorker(t, supplier.key);
    // Its first proof (at connect) settles; the next one is a day away on average, so nothing races the reset.
    await waitFor("a proof reveal request", () => w.received.some((m) => m.type === "proof.reveal-request"), {
      timeoutMs: 20_000,
    });
    await waitFor(
      "the device verified",
      async () => {
        const row = await t.server.ctx.db
          .selectFrom("devices")
          .select("verification")
          .where("id", "=", w.deviceId)
          .executeTakeFirst();
        return row?.verification === "verified";
      },
      { timeoutMs: 20_000 },
    );
    await setVerification(w.deviceId, "unverified");
    expect(await t.server.ctx.gateway.send(w.deviceId, start())).toBe(false);
    // The session is live (a heartbeat is answered after the refused send), and it never saw the order.
    const beats = w.handle.stats().heartbeats;
    await waitFor("two more heartbeats", () => w.handle.stats().heartbeats >= beats + 2);
    expect(w.received.some((m) => m.type === "job.start")).toBe(false);
    await w.handle.stop();
  });

  it("counts a device in good standing only when connected, verified and not in conflict", async () => {
    const w = await startTestWorker(t, supplier.key);
    await waitFor("the device online", async () => {
      const row = await t.server.ctx.db
        .selectFrom("devices")
        .select("status")
        .where("id", "=", w.deviceId)
        .executeTakeFirst();
      return row?.status === "online";
    });
    await setVerification(w.deviceId, "verified");
    expect(await inGoodStanding(t.server.ctx.db, w.deviceId)).toBe(true);
    await w.handle.stop();
    await markDeviceConflict(t.server.ctx.db, w.deviceId, ["192.0.2.1", "192.0.2.2"]);
    expect(await inGoodStanding(t.server.ctx.db, w.deviceId)).toBe(false);
    expect(await t.server.ctx.gateway.send(w.deviceId, start())).toBe(false);
  });
});
