import { type Fleet, startFleet } from "../../apps/cli/src/sim/fleet.js";

/**
 * The steady fleet the replica and fault suites run: `devices` honest simulated RTX 4090s spread over
 * `servers`, at the server's heartbeat interval, without churn, their state under `stateRoot`.
 */
export function startHonestFleet(options: {
  servers: string[];
  supplierKey: string;
  stateRoot: string;
  devices: number;
  enrollConcurrency?: number;
}): Fleet {
  return startFleet({
    servers: options.servers,
    supplierKey: options.supplierKey,
    profile: "sim-rtx4090",
    heartbeatSeconds: undefined,
    churnPerMinute: 0,
    stateRoot: options.stateRoot,
    enrollConcurrency: options.enrollConcurrency ?? 8,
    devices: Array.from({ length: options.devices }, (_, index) => ({ index, counterfeit: false })),
  });
}
