import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChallengeView } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { enrollSimDevice } from "../../apps/cli/src/sim/sim-device.js";
import { resolveSimSupplier } from "../../apps/cli/src/sim/supplier-key.js";
import { startWorker, type WorkerHandle } from "../../apps/cli/src/worker/worker-agent.js";
import { openDatabase } from "../../apps/server/src/db/database.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { call } from "../../apps/server/src/testing/worker-fixture.js";
import { createScratchDatabase } from "../replicas/replica-cluster.js";
import { describeWithReplicaServices, REPLICA_NATS_URL } from "../replicas/services.js";

/**
 * Proof of GPU across replicas: the replica holding a device's session issues and judges its challenges, so
 * an admin request that reaches another replica is forwarded over NATS, and every challenge is issued once.
 */
describeWithReplicaServices("proof of GPU on two replicas", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let a: TestServer;
  let b: TestServer;
  let worker: WorkerHandle | undefined;
  const stateDir = mkdtempSync(join(tmpdir(), "ignis-proof-replicas-"));

  const replica = async (id: string) =>
    startTestServer({
      database: await openDatabase({ databaseUrl: scratch.url, poolSize: 4 }),
      env: { DATABASE_URL: scratch.url, IGNIS_NATS_URL: REPLICA_NATS_URL, IGNIS_REPLICA_ID: id },
    });

  // Only the first replica writes the bootstrap admin key; it works on both (one database).
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    a = await replica("replica-a");
    b = await replica("replica-b");
  });

  afterAll(async () => {
    await worker?.stop();
    for (const server of [a, b]) {
      if (!server) continue;
      await server.stop();
      await server.server.ctx.database.close();
    }
    await scratch?.drop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("challenges a device once, on the replica holding its session, even when the admin asks another", async () => {
    const supplierKey = (await resolveSimSupplier(a.url, a.adminKey)).apiKey;
    const deviceId = await enrollSimDevice({ server: a.url, supplierKey, stateDir, profile: "sim-a100" });
    worker = startWorker({ stateDir, server: a.url });
    await worker.connected;
    const challenges = async () =>
      (
        await call<{ items: ChallengeView[] }>(
          b,
          "GET",
          `/v1/admin/devices/${deviceId}/challenges`,
          a.adminKey,
        )
      ).body.items;
    await waitFor("a passed challenge", async () => (await challenges()).some((c) => c.outcome === "pass"));
    await waitFor("replica B to see the device", () => b.server.ctx.gateway.isConnected(deviceId));

    const asked = await call(b, "POST", `/v1/admin/devices/${deviceId}/challenges`, a.adminKey);
    expect(asked).toMatchObject({ status: 202, body: { delivery: "forwarded", challengeId: null } });
    const byAdmin = await waitFor("the admin's challenge to end", async () =>
      (await challenges()).find((c) => c.trigger === "admin" && c.outcome !== "pending"),
    );
    expect(byAdmin).toMatchObject({ outcome: "pass" });
    const rows = await a.server.ctx.db
      .selectFrom("proof_challenges")
      .select(["replica", "trigger"])
      .where("device_id", "=", deviceId)
      .orderBy("issued_at")
      .execute();
    expect(rows).toEqual([
      { replica: "replica-a", trigger: "connect" },
      { replica: "replica-a", trigger: "admin" },
    ]);
  });
});
