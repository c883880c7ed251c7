import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerMessage } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { enrollSimDevice } from "../../apps/cli/src/sim/sim-device.js";
import { resolveSimSupplier } from "../../apps/cli/src/sim/supplier-key.js";
import { startWorker, type WorkerHandle } from "../../apps/cli/src/worker/worker-agent.js";
import { deviceSubject } from "../../apps/server/src/bus/bus.js";
import { openDatabase } from "../../apps/server/src/db/database.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { createScratchDatabase } from "./replica-cluster.js";
import { describeWithReplicaServices, REPLICA_NATS_URL } from "./services.js";

/** Polls until `check` holds, failing after `ms`. */
describeWithReplicaServices("two replicas over one PostgreSQL and NATS", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let a: TestServer;
  let b: TestServer;
  let supplierKey: string;
  const stateRoot = mkdtempSync(join(tmpdir(), "ignis-cross-replica-"));
  const workers: WorkerHandle[] = [];

  const replica = async (id: string) =>
    startTestServer({
      database: await openDatabase({ databaseUrl: scratch.url, poolSize: 4 }),
      env: {
        // Also in the config, so the server picks the shared (PostgreSQL) rate-limit store as a replica would.
        DATABASE_URL: scratch.url,
        IGNIS_NATS_URL: REPLICA_NATS_URL,
        IGNIS_REPLICA_ID: id,
        IGNIS_HEARTBEAT_SECONDS: "1",
        IGNIS_RATE_LIMITS: "on",
      },
    });

  /** Enrolls a simulated device through `via` and connects its worker there; resolves once it is online. */
  const deviceOn = async (via: TestServer, name: string, seen: ServerMessage[] = []) => {
    const stateDir = join(stateRoot, name);
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
    a = await replica("replica-a");
    b = await replica("replica-b");
    supplierKey = (await resolveSimSupplier(a.url, a.adminKey)).apiKey;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    for (const server of [a, b]) {
      if (!server) continue;
      await server.stop();
      await server.server.ctx.database.close();
    }
    await scratch?.drop();
    rmSync(stateRoot, { recursive: true, force: true });
  });

  it("closes a device's session on replica A at once when its owner revokes it through replica B", async () => {
    const { deviceId, worker } = await deviceOn(a, "revoked");
    await waitFor("replica B to see the device on A", () => b.server.ctx.gateway.isConnected(deviceId));
    // What A hears on the device's subject: the order from B, not A's own database sweep (every 5 s here), must
    // be what ends the session, however long either takes on a loaded machine.
    const heard: unknown[] = [];
    const listening = a.server.ctx.bus.subscribe(
      deviceSubject(deviceId),
      (payload) => void heard.push(payload),
    );

    const response = await fetch(`${b.url}/v1/devices/${deviceId}/revoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${supplierKey}` },
    });
    expect(response.status).toBe(200);
    const exit = await worker.done;
    listening.unsubscribe();

    expect(exit.reason).toBe("revoked");
    expect(heard).toContainEqual({ kind: "disconnect", reason: "device_revoked" });
    // The worker may see the fatal session.error before A's socket finishes its closing handshake; A forgets the
    // session on that socket's close event, so wait for it (bounded) rather than read it at the worker's exit.
    await waitFor(
      "replica A to forget the revoked device",
      () => !a.server.ctx.gateway.isConnected(deviceId),
      { timeoutMs: 4_000 },
    );
  });

  it("delivers a message sent from replica B to a device whose session lives on replica A", async () => {
    const { deviceId, seen } = await deviceOn(a, "dispatched");
    await waitFor("replica B to see the device on A", () => b.server.ctx.gateway.isConnected(deviceId));
    const order: ServerMessage = { type: "job.stop", jobId: `job_${"a".repeat(26)}`, reason: "cancelled" };

    const delivered = await b.server.ctx.gateway.send(deviceId, order);

    expect(delivered).toBe(true);
    await waitFor("the job.stop at the device", () => seen.some((m) => m.type === "job.stop"));
    expect(seen.filter((m) => m.type === "job.stop")).toEqual([order]);
  });

  it("delivers the other way too, and reports false for a device connected nowhere", async () => {
    const { deviceId, seen } = await deviceOn(b, "on-b");
    await waitFor("replica A to see the device on B", () => a.server.ctx.gateway.isConnected(deviceId));
    const order: ServerMessage = { type: "job.stop", jobId: `job_${"b".repeat(26)}`, reason: "rental_ended" };

    expect(await a.server.ctx.gateway.send(deviceId, order)).toBe(true);
    await waitFor("the job.stop at the device", () => seen.some((m) => m.type === "job.stop"));
    expect(await a.server.ctx.gateway.send(`dev_${"z".repeat(26)}`, order)).toBe(false);
  });

  it("shares rate-limit budgets: failed sign-ins on A and on B count against one budget for the address", async () => {
    const statuses: number[] = [];
    // The auth budget is 20 failures a minute per address; each replica alone sees at most 11 of them.
    for (let i = 0; i < 22; i++) {
      const via = i % 2 === 0 ? a : b;
      const response = await fetch(`${via.url}/v1/me`, {
        headers: { authorization: "Bearer ign_not_a_key" },
      });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
  });
});
