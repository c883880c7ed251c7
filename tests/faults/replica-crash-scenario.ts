import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveSimSupplier } from "../../apps/cli/src/sim/supplier-key.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { startHonestFleet } from "../replicas/honest-fleet.js";
import { startReplicaCluster } from "../replicas/replica-cluster.js";
import { missingSlots } from "./uptime-gaps.js";

/** How hard to push the crash scenario. */
export interface CrashScenarioOptions {
  devices: number;
  heartbeatSeconds: number;
  /** Epoch length; a slot (the unit of lost uptime) is epochSeconds / 60. */
  epochSeconds: number;
  /** Steady running before the kill and after every device is back. */
  steadyMs: number;
  /** Told each notable moment, for a printed timeline. */
  onEvent?: (atMs: number, text: string) => void;
}

/** What a kill -9 of one replica cost. */
export interface CrashScenarioResult {
  devices: number;
  devicesOnKilled: number;
  /** From the kill until every device had a session again (on the surviving replica). */
  allBackAfterMs: number | undefined;
  /** Fleet online count sampled every 100 ms, from the kill on. */
  timeline: Array<{ atMs: number; online: number }>;
  slotSeconds: number;
  flushSeconds: number;
  /** Slots missing from stored uptime over the observed window, per device group. */
  lost: { killedMax: number; killedMean: number; survivorMax: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two replica processes, a simulated fleet spread over both with failover lists; kill -9 replica A under load and
 * measure how fast its devices come back on B and how many uptime slots they lost.
 */
export async function runReplicaCrashScenario(options: CrashScenarioOptions): Promise<CrashScenarioResult> {
  const started = Date.now();
  const event = (text: string) => options.onEvent?.(Date.now() - started, text);
  const flushSeconds = Math.max(0.05, Math.min(5, Math.max(1, options.heartbeatSeconds * 2) / 3));
  const cluster = await startReplicaCluster({
    replicas: 2,
    env: {
      IGNIS_EPOCH_SECONDS: String(options.epochSeconds),
      IGNIS_HEARTBEAT_SECONDS: String(options.heartbeatSeconds),
      IGNIS_UPTIME_FLUSH_SECONDS: String(flushSeconds),
    },
  });
  const stateRoot = mkdtempSync(join(tmpdir(), "ignis-crash-"));
  const [a, b] = cluster.replicas as [(typeof cluster.replicas)[0], (typeof cluster.replicas)[0]];
  event(`replicas up: A ${a.url} (pid ${a.pid}), B ${b.url} (pid ${b.pid})`);
  const supplier = await resolveSimSupplier(a.url, cluster.adminKey);
  const fleet = startHonestFleet({
    servers: [a.url, b.url],
    supplierKey: supplier.apiKey,
    stateRoot,
    devices: options.devices,
  });
  try {
    await fleet.ready;
    const settled = await waitFor(`${options.devices} devices online`, () => fleet.snapshot(), {
      until: (s) => s.online === options.devices || s.enrollFailures > 0,
      timeoutMs: 60_000,
      everyMs: 50,
    });
    if (settled.enrollFailures > 0) throw new Error(`fleet not online: ${JSON.stringify(settled)}`);
    event(`${options.devices} devices online, half on each replica`);
    const windowFrom = Date.now();
    await sleep(options.steadyMs);

    const killedAt = Date.now();
    await a.kill("SIGKILL");
    event("replica A killed with SIGKILL");
    const timeline: CrashScenarioResult["timeline"] = [];
    let allBackAfterMs: number | undefined;
    let lowest = options.devices;
    const deadline = killedAt + 30_000;
    while (Date.now() < deadline) {
      const online = fleet.snapshot().online;
      timeline.push({ atMs: Date.now() - killedAt, online });
      if (online < lowest) lowest = online;
      if (online === options.devices && lowest < options.devices) {
        allBackAfterMs = Date.now() - killedAt;
        event(
          `all ${options.devices} devices online again on replica B, ${allBackAfterMs} ms after the kill`,
        );
        break;
      }
      await sleep(100);
    }
    await sleep(options.steadyMs);
    const windowTo = Date.now();

    // B flushes on its own schedule. Its own devices lose nothing, so once their last slots of the window are
    // stored B has flushed past the window, and the same flush carried the devices that moved to it.
    const devices = fleet.devices();
    const survivorIds = devices.filter((d) => d.index % 2 === 1).map((d) => d.deviceId);
    const readGaps = () =>
      missingSlots(
        cluster.databaseUrl,
        devices.map((d) => d.deviceId),
        windowFrom,
        windowTo,
        options.epochSeconds,
      );
    const gaps = await waitFor(
      "replica B to store the window's last slots",
      async () => {
        const read = await readGaps();
        return survivorIds.every((id) => (read.get(id) ?? 0) === 0) ? read : undefined;
      },
      { timeoutMs: 30_000, everyMs: 100 },
    ).catch(readGaps);
    const killed = devices.filter((d) => d.index % 2 === 0).map((d) => gaps.get(d.deviceId) ?? 0);
    const survived = devices.filter((d) => d.index % 2 === 1).map((d) => gaps.get(d.deviceId) ?? 0);
    event(`uptime read back: devices of A lost at most ${Math.max(0, ...killed)} slot(s)`);
    return {
      devices: options.devices,
      devicesOnKilled: killed.length,
      allBackAfterMs,
      timeline,
      slotSeconds: options.epochSeconds / 60,
      flushSeconds,
      lost: {
        killedMax: Math.max(0, ...killed),
        killedMean: killed.reduce((x, y) => x + y, 0) / Math.max(1, killed.length),
        survivorMax: Math.max(0, ...survived),
      },
    };
  } finally {
    await fleet.stop();
    await cluster.stop();
    rmSync(stateRoot, { recursive: true, force: true });
  }
}
