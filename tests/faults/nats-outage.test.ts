import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerMessage } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { enrollSimDevice } from "../../apps/cli/src/sim/sim-device.js";
import { resolveSimSupplier } from "../../apps/cli/src/sim/supplier-key.js";
import { startWorker, type WorkerHandle } from "../../apps/cli/src/worker/worker-agent.js";
import type { NatsBus } from "../../apps/server/src/bus/nats-bus.js";
import { openDatabase } from "../../apps/server/src/db/database.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { createScratchDatabase } from "../replicas/replica-cluster.js";
import { describeWithReplicaServices, REPLICA_NATS_URL } from "../replicas/services.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

const stop = (jobId: string): ServerMessage => ({ type: "job.stop", jobId, reason: "cancelled" });

describeWithReplicaServices("NATS going away between two replicas", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let proxy: TcpProxy;
  let a: TestServer;
  let b: TestServer;
  let supplierKey: string;
  const stateRoot = mkdtempSync(join(tmpdir(), "ignis-nats-outage-"));
  const workers: WorkerHandle[] = [];

  const replica = async (id: string, natsUrl: string) =>
    startTestServer({
      database: await openDatabase({ databaseUrl: scratch.url, poolSize: 4 }),
      env: { IGNIS_NATS_URL: natsUrl, IGNIS_REPLICA_ID: id, IGNIS_HEARTBEAT_SECONDS: "1" },
    });
  const busOf = (server: TestServer) => server.server.ctx.bus as NatsBus;

  const deviceOn = async (via: TestServer, name: string) => {
    const stateDir = join(stateRoot, name);
    const seen: ServerMessage[] = [];
    const deviceId = await enrollSimDevice({
      server: via.url,
      supplierKey,
      stateDir,
      profile: "sim-rtx4090",
    });
    const worker = startWorker({ stateDir, server: via.url, onMessage: (m) => void seen.push(m) });
    workers.push(worker);
    await worker.connected;
    return { deviceId, worker, seen };
  };

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const nats = new URL(REPLICA_NATS_URL);
    proxy = await startTcpProxy({ host: nats.hostname, port: Number(nats.port) });
    // Replica A reaches NATS through a proxy the test cuts; replica B keeps its link.
    a = await replica("replica-a", `nats://127.0.0.1:${proxy.port}`);
    b = await replica("replica-b", REPLICA_NATS_URL);
    supplierKey = (await resolveSimSupplier(a.url, a.adminKey)).apiKey;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    for (const server of [a, b]) {
      if (!server) continue;
      await server.stop();
      await server.server.ctx.database.close();
    }
    await proxy?.close();
    await scratch?.drop();
    rmSync(stateRoot, { recursive: true, force: true });
  });

  it("refuses cross-replica delivery clearly while NATS is cut, keeps sessions, and recovers when it returns", async () => {
    const onA = await deviceOn(a, "on-a");
    const onB = await deviceOn(b, "on-b");
    await waitFor(
      "each replica to see the other's device",
      () => a.server.ctx.gateway.isConnected(onB.deviceId) && b.server.ctx.gateway.isConnected(onA.deviceId),
    );

    await proxy.cut();
    await waitFor("replica A's bus to lose NATS", () => !busOf(a).connected);
    // A cannot publish at all: the send fails at once and the bus counts the refusal.
    expect(await a.server.ctx.gateway.send(onB.deviceId, stop(`job_${"1".repeat(26)}`))).toBe(false);
    expect(busOf(a).stats().refused).toBeGreaterThan(0);
    // B publishes, but nobody acknowledges: the send reports failure after its short timeout.
    expect(await b.server.ctx.gateway.send(onA.deviceId, stop(`job_${"2".repeat(26)}`))).toBe(false);
    // Sessions are untouched: devices keep heartbeating into their own replica.
    expect(onA.worker.stats().online && onB.worker.stats().online).toBe(true);
    expect(a.server.ctx.gateway.stats().sessions).toBe(1);

    await proxy.restore();
    await waitFor("replica A's bus to reconnect", () => busOf(a).connected);
    // After the link returns, each replica learns again where the other's devices are, and delivery resumes.
    await waitFor("delivery from B to the device on A", async () =>
      b.server.ctx.gateway.send(onA.deviceId, stop(`job_${"3".repeat(26)}`)),
    );
    await waitFor("delivery from A to the device on B", async () =>
      a.server.ctx.gateway.send(onB.deviceId, stop(`job_${"4".repeat(26)}`)),
    );
    const jobs = (seen: ServerMessage[]) => seen.flatMap((m) => (m.type === "job.stop" ? [m.jobId[4]] : []));
    expect(jobs(onA.seen)).toContain("3");
    expect(jobs(onA.seen)).not.toContain("2");
    expect(jobs(onB.seen)).toContain("4");
    expect(jobs(onB.seen)).not.toContain("1");
  });

  it("still ends a session on A revoked through B while NATS is cut, through the database sweep", async () => {
    const onA = await deviceOn(a, "revoked-during-outage");
    await proxy.cut();
    await waitFor("replica A's bus to lose NATS", () => !busOf(a).connected);
    const response = await fetch(`${b.url}/v1/devices/${onA.deviceId}/revoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${supplierKey}` },
    });
    expect(response.status).toBe(200);
    // Through the database sweep (every 5 s here) rather than at once over NATS; the test's timeout bounds it.
    const exit = await onA.worker.done;
    expect(exit.reason).toBe("revoked");
    await proxy.restore();
  });
});
