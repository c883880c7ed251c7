import { afterAll, beforeAll, expect, it } from "vitest";
import { createInProcessBus } from "../../apps/server/src/bus/in-process-bus.js";
import { WRITE_SURGE_DEFAULTS } from "../../apps/server/src/security/rules/write-surge.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  enrollSimulated,
  userWithKey,
} from "../../apps/server/src/testing/worker-fixture.js";

/** Writes sent to each replica: together past the per-actor floor, each share well under it. */
const PER_REPLICA = 20;

describeEachDialect("scenario: a stolen key's writes spread over two replicas", (database) => {
  let a: TestServer;
  let b: TestServer;
  let supplier: { userId: string; key: string };
  let deviceId: string;
  beforeAll(async () => {
    // Two replicas over one database and one bus, as behind a round-robin proxy.
    const bus = createInProcessBus();
    const env = (id: string) => ({ IGNIS_REPLICA_ID: id, IGNIS_SECURITY_CONTAINMENT: "on" });
    a = await startTestServer({ database: database(), env: env("replica-a"), overrides: { bus } });
    b = await startTestServer({ database: database(), env: env("replica-b"), overrides: { bus } });
    supplier = await userWithKey(a);
    ({ deviceId } = await enrollSimulated(a, supplier.key));
  }, 60_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    cleanupStateDirs();
  });

  it("raises one write-surge alert from the two shares together and suspends the key on both", async () => {
    expect(2 * PER_REPLICA).toBeGreaterThan(WRITE_SURGE_DEFAULTS.actorFloor);
    expect(PER_REPLICA).toBeLessThan(WRITE_SURGE_DEFAULTS.actorFloor);
    const statuses: number[] = [];
    for (let i = 0; i < 2 * PER_REPLICA; i++) {
      const replica = i % 2 === 0 ? a : b;
      const res = await call(replica, "PATCH", `/v1/devices/${deviceId}`, supplier.key, {
        label: `pwned ${i}`,
      });
      statuses.push(res.status);
    }
    // The alert needs the other replica's share, which arrives over the bus in batches.
    const alerts = await waitFor("the write_surge alerts", async () => {
      const rows = await a.server.ctx.db
        .selectFrom("security_alerts")
        .select(["id", "rule", "subject", "containment"])
        .where("rule", "=", "write_surge")
        .where("actor_id", "=", supplier.userId)
        .execute();
      return rows.length > 0 ? rows : undefined;
    });
    // Both replicas crossed the threshold; the alert is stored once.
    await Promise.all([a.server.ctx.security.settled(), b.server.ctx.security.settled()]);
    const all = await a.server.ctx.db
      .selectFrom("security_alerts")
      .select("id")
      .where("rule", "=", "write_surge")
      .where("actor_id", "=", supplier.userId)
      .execute();
    expect(all).toHaveLength(1);
    expect(alerts?.[0]?.containment).toMatchObject({ kind: "suspend_user" });
    expect(statuses.filter((s) => s !== 200).every((s) => s === 401)).toBe(true);
    for (const replica of [a, b]) {
      const after = await call<{ code: string }>(replica, "GET", "/v1/me", supplier.key);
      expect(after).toMatchObject({ status: 401, body: { code: "account_suspended" } });
    }
  });
});
