import { expect, it } from "vitest";
import { describeWithReplicaServices } from "../replicas/services.js";
import { runReplicaCrashScenario } from "./replica-crash-scenario.js";

describeWithReplicaServices("kill -9 of one replica under load", () => {
  it("moves its devices to the other replica within seconds, losing uptime only for the gap", async () => {
    const result = await runReplicaCrashScenario({
      devices: 20,
      heartbeatSeconds: 0.5,
      epochSeconds: 60,
      steadyMs: 2_000,
    });

    expect(result.devicesOnKilled).toBe(10);
    // How soon they are back is measured by bench/fault-replica-crash.ts; here they must come back at all.
    expect(result.allBackAfterMs).toBeDefined();
    // Lost: the reconnect gap plus what the dead replica had buffered but not yet flushed, in whole slots.
    const gapSlots =
      Math.ceil((result.allBackAfterMs! / 1000 + result.flushSeconds) / result.slotSeconds) + 1;
    expect(result.lost.killedMax).toBeLessThanOrEqual(gapSlots);
    // The surviving replica's devices lost nothing.
    expect(result.lost.survivorMax).toBe(0);
  }, 90_000);
});
