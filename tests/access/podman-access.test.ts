import { execFile, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";
import type { ClusterView, HardwareClaim } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  openPodmanSandbox,
  type PodmanSandbox,
  podmanMissing,
} from "../../apps/cli/src/jobs/sandbox/podman-fixture.js";
import { enrollDevice } from "../../apps/cli/src/worker/enroll.js";
import { startWorker, type WorkerHandle } from "../../apps/cli/src/worker/worker-agent.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { call, enrollmentCode, userWithKey } from "../../apps/server/src/testing/worker-fixture.js";

const IGNIS = fileURLToPath(new URL("../../apps/cli/bin/ignis.js", import.meta.url));
const MODEL = "Generic CPU (TypeScript prover, one core)";

/** A real (not simulated) device: its jobs run in the podman sandbox. */
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
if (missing && process.env.IGNIS_TEST_REQUIRE_PODMAN === "1")
  throw new Error(`podman is required (IGNIS_TEST_REQUIRE_PODMAN=1): ${missing}`);

// `ignis clusters ssh` and `port-forward` into a job that runs in a real podman container on a real worker: the
// command runs inside the job's container (its user, its folder) and the forward reaches a port that is open only
// inside the job's own network namespace.
describeEachDialect("getting into a job in a podman container", (database) => {
  let t: TestServer;
  let sandbox: PodmanSandbox;
  let worker: WorkerHandle;
  let customerKey = "";
  let cluster: ClusterView;

  beforeAll(async () => {
    if (missing) return;
    t = await startTestServer({
      database: database(),
      env: { IGNIS_HEARTBEAT_SECONDS: "1", IGNIS_EPOCH_SECONDS: "60", IGNIS_UPTIME_FLUSH_SECONDS: "1" },
    });
    const supplierKey = (await userWithKey(t, ["supplier"])).key;
    const customer = await userWithKey(t, ["customer"]);
    customerKey = customer.key;
    await call(t, "POST", "/v1/admin/credits", t.adminKey, { userId: customer.userId, amount: "100000000" });
    sandbox = await openPodmanSandbox();
    const { deviceId } = await enrollDevice({
      server: t.url,
      code: await enrollmentCode(t, supplierKey),
      stateDir: sandbox.stateDir,
      hardware: claim,
    });
    const report = {
      kind: "container" as const,
      engine: "podman" as const,
      version: "test",
      runtime: "runc",
      rootless: false,
      network: "filtered" as const,
      gpus: "none" as const,
    };
    worker = startWorker({
      stateDir: sandbox.stateDir,
      jobs: sandbox.runtime,
      metadata: { ...claim, sandbox: report },
    });
    await worker.connected;
    // Port 8888 answers inside the job only: nothing publishes it on the host.
    const script = "while true; do echo served-from-job | nc -l -p 8888; done & sleep 600";
    const created = await waitFor(
      "the device to be rentable",
      async () => {
        // This suite is about access, not proofs: the test vouches for the device while it waits.
        await t.server.ctx.db
          .updateTable("devices")
          .set({ verification: "verified" })
          .where("id", "=", deviceId)
          .execute();
        const res = await call<ClusterView>(t, "POST", "/v1/clusters", customerKey, {
          gpuModel: MODEL,
          count: 1,
          hours: 1,
          job: { command: "sh", args: ["-c", script] },
        });
        return res.status === 201 ? res.body : undefined;
      },
      { timeoutMs: 30_000, everyMs: 200 },
    );
    cluster = await waitFor(
      "the job to run in its container",
      async () => {
        const c = await call<ClusterView>(t, "GET", `/v1/clusters/${created.id}`, customerKey);
        return c.body.devices[0]?.state === "running" ? c.body : undefined;
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );
  }, 120_000);

  afterAll(async () => {
    if (missing) return;
    if (cluster) await call(t, "POST", `/v1/clusters/${cluster.id}/cancel`, customerKey);
    await worker?.stop();
    await t?.stop();
    await sandbox?.close();
  });

  const env = () => ({ ...process.env, IGNIS_SERVER: t.url, IGNIS_API_KEY: customerKey });

  it.skipIf(missing !== null)("runs a command in the job's container and exits with its code", async () => {
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          IGNIS,
          "clusters",
          "ssh",
          cluster.id,
          "--rank",
          "0",
          "--",
          "sh",
          "-c",
          "echo hi; id -u; pwd; exit 3",
        ],
        { env: env(), timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      ).stdin!.end();
    });
    expect(run).toMatchObject({ code: 3, stdout: "hi\n1000\n/work\n" });
  });

  it.skipIf(missing !== null)(
    "forwards a local port to a port open only inside the job's network namespace",
    async () => {
      const forward = spawn(process.execPath, [IGNIS, "clusters", "port-forward", cluster.id, "0:8888"], {
        env: env(),
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        let out = "";
        forward.stdout.on("data", (b: Buffer) => (out += b.toString()));
        const localPort = await waitFor("the forward to listen", () => {
          const m = /^(\d+)$/m.exec(out);
          return m ? Number(m[1]) : undefined;
        });
        const answer = await new Promise<string>((resolve, reject) => {
          let text = "";
          const socket = createConnection({ host: "127.0.0.1", port: localPort });
          socket.on("data", (b) => (text += b.toString()));
          socket.on("close", () => resolve(text));
          socket.on("error", reject);
        });
        expect(answer).toBe("served-from-job\n");
      } finally {
        forward.kill("SIGTERM");
      }
    },
  );
});
