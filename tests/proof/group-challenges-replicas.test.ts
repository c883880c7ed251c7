import { afterAll, beforeAll, expect, it } from "vitest";
import { createInProcessBus } from "../../apps/server/src/bus/in-process-bus.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import {
  cleanupStateDirs,
  startTestWorker,
  type TestWorker,
  userWithKey,
} from "../../apps/server/src/testing/worker-fixture.js";

/**
 * A group reaches an owner's devices wherever their sessions are: one device on each of two replicas (one
 * database, one bus), re-checks about every second; each replica's scheduled re-checks bring a group challenge
 * to the device on the other replica, issued by the replica that holds its session.
 */
describeEachDialect("group challenges across replicas", (database) => {
  let a: TestServer;
  let b: TestServer;
  let onA: TestWorker;
  let onB: TestWorker;
  beforeAll(async () => {
    const bus = createInProcessBus();
    const env = (id: string) => ({ IGNIS_REPLICA_ID: id, IGNIS_CHALLENGE_MEAN_SECONDS: "1" });
    a = await startTestServer({ database: database(), env: env("replica-a"), overrides: { bus } });
    b = await startTestServer({ database: database(), env: env("replica-b"), overrides: { bus } });
    const supplier = await userWithKey(a);
    onA = await startTestWorker(a, supplier.key, { profile: "sim-a100" });
    onB = await startTestWorker(a, supplier.key, { profile: "sim-rtx4090", server: b.url });
  }, 60_000);
  afterAll(async () => {
    await onA?.handle.stop();
    await onB?.handle.stop();
    await b?.stop();
    await a?.stop();
    cleanupStateDirs();
  });

  const groupChallenges = (deviceId: string) =>
    a.server.ctx.db
      .selectFrom("proof_challenges")
      .select(["replica", "outcome"])
      .where("device_id", "=", deviceId)
      .where("trigger", "=", "group")
      .execute();

  it("challenges each replica's device when the other replica's device is re-checked", async () => {
    const found = await waitFor(
      "group challenges on both replicas",
      async () => {
        const both = await Promise.all([groupChallenges(onA.deviceId), groupChallenges(onB.deviceId)]);
        return both.every((rows) => rows.length > 0) ? both : undefined;
      },
      { timeoutMs: 30_000, everyMs: 100 },
    );
    const [fromA = [], fromB = []] = found ?? [];
    // Each challenge is issued and judged by the replica holding the session.
    expect(new Set(fromA.map((c) => c.replica))).toEqual(new Set(["replica-a"]));
    expect(new Set(fromB.map((c) => c.replica))).toEqual(new Set(["replica-b"]));
    expect([...fromA, ...fromB].every((c) => ["pass", "pending", "cancelled"].includes(c.outcome))).toBe(
      true,
    );
  });
});
