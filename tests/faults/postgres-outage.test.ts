import { expect, it } from "vitest";
import { describeWithReplicaServices } from "../replicas/services.js";
import { runPostgresOutageScenario } from "./postgres-outage-scenario.js";

describeWithReplicaServices("PostgreSQL going away under load", () => {
  it("keeps every session, buffers up-minutes while flushes fail, and stores them all once it is back", async () => {
    const result = await runPostgresOutageScenario({
      devices: 10,
      heartbeatSeconds: 0.5,
      epochSeconds: 60,
      outageMs: 5_000,
      steadyMs: 1_500,
    });

    expect(result.replicaSurvived).toBe(true);
    expect(result.minOnlineDuringOutage).toBe(result.devices);
    expect(result.failedFlushes).toBeGreaterThan(0);
    expect(result.lost.total).toBe(0);
  }, 90_000);
});
