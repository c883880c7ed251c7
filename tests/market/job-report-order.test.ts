import type { ClusterView, JobStartMessage } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  PROOF_AT_REST,
  startTestWorker,
  type TestWorker,
  userWithKey,
  vouchForDevice,
} from "../../apps/server/src/testing/worker-fixture.js";

const PRICE = 1_200_000n;
const RENTALS = 8;

// A job that ends at once reports `running` and `exited` back to back over one session. The gateway hands each
// message to its handler as it arrives, so on a database with a pool the two reports used to race: when the end
// won the cluster lock, the job was still `assigned`, its minute was never metered, and the late `running` found
// a closed job (rent-a-cluster's "meteredMinutes 0" on PostgreSQL). Reports of one device apply in order now.
describeEachDialect("job reports of one device", (database) => {
  let t: TestServer;
  let worker: TestWorker;
  let customerKey = "";
  const starts: JobStartMessage[] = [];
  let onStart: ((m: JobStartMessage) => void) | undefined;

  beforeAll(async () => {
    t = await startTestServer({
      database: database(),
      // Billing minutes of ten minutes: however slow the machine, both reports fall in a rental's first minute,
      // so exactly one minute is metered when both count and none when the end overtakes the start. Heartbeats
      // every 2 s: the scheduler hires devices seen within 8 s, which a loaded machine still keeps up with.
      env: {
        IGNIS_HEARTBEAT_SECONDS: "2",
        IGNIS_EPOCH_SECONDS: "600",
        IGNIS_UPTIME_FLUSH_SECONDS: "1",
        IGNIS_BILLING_MINUTE_SECONDS: "600",
        ...PROOF_AT_REST,
      },
    });
    const supplier = await userWithKey(t, ["supplier"]);
    const customer = await userWithKey(t, ["customer"]);
    customerKey = customer.key;
    worker = await startTestWorker(t, supplier.key, {
      onMessage: (m) => {
        if (m.type !== "job.start") return;
        starts.push(m);
        onStart?.(m);
      },
    });
    await vouchForDevice(t, worker.deviceId);
    const price = await call(t, "PUT", `/v1/devices/${worker.deviceId}/price`, supplier.key, {
      minPricePerHour: PRICE.toString(),
    });
    expect(price.status).toBe(200);
    const grant = await call(t, "POST", "/v1/admin/credits", t.adminKey, {
      userId: customer.userId,
      amount: (PRICE * BigInt(RENTALS)).toString(),
    });
    expect(grant.status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await worker?.handle.stop();
    await t?.stop();
    cleanupStateDirs();
  });

  /** Waits until the scheduler would hire the device: back in the pool, and seen with room to spare. */
  const hireable = () =>
    waitFor(
      "the device back in the pool, seen recently",
      async () => {
        const row = await t.server.ctx.db
          .selectFrom("devices")
          .select(["status", "last_seen_at"])
          .where("id", "=", worker.deviceId)
          .executeTakeFirstOrThrow();
        return row.status === "online" && new Date(row.last_seen_at ?? 0).getTime() >= Date.now() - 4_000;
      },
      { timeoutMs: 30_000 },
    );

  it("meters the minute of a job whose running and exited reports arrive back to back", async () => {
    // The worker's own job host runs the job too; its reports come later and find the job closed.
    onStart = (m) => {
      worker.handle.send({ type: "job.status", jobId: m.jobId, state: "running", runner: "subprocess" });
      worker.handle.send({
        type: "job.status",
        jobId: m.jobId,
        state: "exited",
        exitCode: 0,
        runner: "subprocess",
      });
    };
    for (let i = 0; i < RENTALS; i++) {
      await hireable();
      const created = await call<ClusterView>(t, "POST", "/v1/clusters", customerKey, {
        gpuModel: "sim-a100",
        count: 1,
        hours: 1,
        job: { command: "node", args: ["-e", ""] },
      });
      expect(created.status).toBe(201);
      const done = (await waitFor(
        "the cluster to finish",
        async () => {
          const c = await call<ClusterView>(t, "GET", `/v1/clusters/${created.body.id}`, customerKey);
          return c.body.status === "completed" || c.body.status === "failed" ? c.body : undefined;
        },
        { timeoutMs: 30_000 },
      )) as ClusterView;
      expect(done.status).toBe("completed");
      expect(done.devices.map((d) => [d.state, d.exitCode, d.meteredMinutes])).toEqual([["exited", 0, 1]]);
    }
    expect(starts).toHaveLength(RENTALS);
  }, 120_000);
});
