import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterLogs, ClusterView, HardwareClaim, SandboxReport } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { z } from "zod";
import { noJobRuntime } from "../../../cli/src/jobs/job-runtime.js";
import { openPodmanSandbox, podmanMissing } from "../../../cli/src/jobs/sandbox/podman-fixture.js";
import { enrollDevice } from "../../../cli/src/worker/enroll.js";
import { startWorker, type WorkerHandle } from "../../../cli/src/worker/worker-agent.js";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import { call, enrollmentCode, userWithKey } from "../testing/worker-fixture.js";

const MODEL = "Generic CPU (TypeScript prover, one core)";

/** A real (not simulated) device: its jobs need the sandbox. */
const claim: HardwareClaim = {
  profile: "cpu-generic",
  gpu: { vendor: "cpu", model: MODEL, count: 1, vramGb: 0, driver: null },
  cpu: { model: "Test CPU", cores: 2 },
  ramGb: 4,
  diskGb: 20,
  os: { platform: "linux", release: "6.1", arch: "x64", appleSilicon: false },
  region: "europe",
};

const missing = await podmanMissing();

// The whole path on a device with real hardware: the worker reports its sandbox in its metadata, the market
// hires it only when that sandbox works, and the job runs in a container whose output reaches the customer.
describeEachDialect("renting a device whose jobs run in the sandbox", (database) => {
  let t: TestServer;
  let supplierKey = "";
  let customerKey = "";
  const dirs: string[] = [];
  const workers: WorkerHandle[] = [];

  beforeAll(async () => {
    // Heartbeats reach last_seen_at every second: a device is a candidate only while seen within 6 s.
    t = await startTestServer({
      database: database(),
      env: { IGNIS_HEARTBEAT_SECONDS: "1", IGNIS_EPOCH_SECONDS: "60", IGNIS_UPTIME_FLUSH_SECONDS: "1" },
    });
    supplierKey = (await userWithKey(t, ["supplier"])).key;
    const customer = await userWithKey(t, ["customer"]);
    customerKey = customer.key;
    await call(t, "POST", "/v1/admin/credits", t.adminKey, { userId: customer.userId, amount: "100000000" });
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await t?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Enrolls the device, starts its worker with a sandbox report and waits until the server stored it. */
  const device = async (
    sandbox: SandboxReport,
    jobs: Parameters<typeof startWorker>[0]["jobs"],
    stateDir?: string,
  ) => {
    const dir = stateDir ?? mkdtempSync(join(tmpdir(), "ignis-sandboxed-"));
    dirs.push(dir);
    const code = await enrollmentCode(t, supplierKey);
    const { deviceId } = await enrollDevice({ server: t.url, code, stateDir: dir, hardware: claim });
    const worker = startWorker({ stateDir: dir, jobs, metadata: { ...claim, sandbox } });
    workers.push(worker);
    await worker.connected;
    await waitFor("the device's sandbox report", async () => {
      const view = await call<{ hardware: { sandbox?: SandboxReport } }>(
        t,
        "GET",
        `/v1/devices/${deviceId}`,
        supplierKey,
      );
      return view.body.hardware.sandbox?.kind === sandbox.kind;
    });
    // The test vouches for the device once its metadata is stored (this suite is about jobs, not proofs).
    await t.server.ctx.db
      .updateTable("devices")
      .set({ verification: "verified" })
      .where("id", "=", deviceId)
      .execute();
    return { deviceId, worker };
  };

  const rent = (job: Record<string, unknown>) =>
    call<ClusterView & { code?: string }>(t, "POST", "/v1/clusters", customerKey, {
      gpuModel: MODEL,
      count: 1,
      hours: 1,
      job,
    });

  it("shows an engine-less device as sandbox_unavailable to its owner and never hires it", async () => {
    const { deviceId, worker } = await device(
      { kind: "unavailable", reason: "sandbox_unavailable", message: "podman is not installed" },
      noJobRuntime("podman is not installed"),
    );
    const view = await call<{ hardware: { sandbox: SandboxReport } }>(
      t,
      "GET",
      `/v1/devices/${deviceId}`,
      supplierKey,
    );
    expect(view.body.hardware.sandbox).toMatchObject({ reason: "sandbox_unavailable" });
    expect((await rent({ command: "true" })).body).toMatchObject({ code: "no_capacity" });
    await worker.stop();
  });

  it.skipIf(missing !== null)(
    "runs a rented command job in a container of the default image and shows its output",
    async () => {
      const sandbox = await openPodmanSandbox();
      try {
        const { deviceId } = await device(
          {
            kind: "container",
            engine: "podman",
            version: "test",
            runtime: "runc",
            rootless: false,
            network: "filtered",
            gpus: "none",
          },
          sandbox.runtime,
          sandbox.stateDir,
        );
        // Rentable once its heartbeats have reached the database (a candidate is a device seen recently).
        const created = (await waitFor(
          "the cluster to be created",
          async () => {
            // Proofs are not this suite's subject: the test keeps vouching for the device while it waits.
            await t.server.ctx.db
              .updateTable("devices")
              .set({ verification: "verified" })
              .where("id", "=", deviceId)
              .execute();
            const res = await rent({
              command: "sh",
              args: ["-c", 'echo "uid $(id -u) rank $RANK of $WORLD_SIZE"; ls /work'],
            });
            if (res.status === 201) return res;
            const row = await t.server.ctx.db
              .selectFrom("devices")
              .select(["status", "verification", "last_seen_at", "hardware"])
              .where("id", "=", deviceId)
              .executeTakeFirstOrThrow();
            throw new Error(`${res.body.code}: ${JSON.stringify({ ...row, now: new Date() })}`);
          },
          { timeoutMs: 30_000 },
        ))!;
        expect(created.status).toBe(201);
        const done = (await waitFor(
          "the cluster to finish",
          async () => {
            const c = await call<ClusterView>(t, "GET", `/v1/clusters/${created.body.id}`, customerKey);
            return c.body.status === "completed" || c.body.status === "failed" ? c.body : undefined;
          },
          { timeoutMs: 60_000 },
        )) as ClusterView;
        expect(done.devices.map((d) => [d.state, d.exitCode, d.error])).toEqual([["exited", 0, null]]);
        const logs = await call<z.infer<typeof ClusterLogs>>(
          t,
          "GET",
          `/v1/clusters/${created.body.id}/logs?limit=100`,
          customerKey,
        );
        const text = logs.body.items.map((l) => l.data).join("");
        expect(text).toContain("uid 1000 rank 0 of 1");
        expect(text).toContain("started (container:podman)");
      } finally {
        await sandbox.close();
      }
    },
    120_000,
  );
});
