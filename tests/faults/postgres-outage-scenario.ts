import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveSimSupplier } from "../../apps/cli/src/sim/supplier-key.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { startHonestFleet } from "../replicas/honest-fleet.js";
import { startReplicaCluster } from "../replicas/replica-cluster.js";
import { REPLICA_POSTGRES_URL } from "../replicas/services.js";
import { startTcpProxy } from "./tcp-proxy.js";
import { missingSlots } from "./uptime-gaps.js";

/** How long and under how many devices PostgreSQL goes away. */
export interface PostgresOutageOptions {
  devices: number;
  heartbeatSeconds: number;
  epochSeconds: number;
  outageMs: number;
  steadyMs: number;
  onEvent?: (atMs: number, text: string) => void;
}

/** What a PostgreSQL outage cost. */
export interface PostgresOutageResult {
  devices: number;
  /** Whether the replica process was still running at the end. */
  replicaSurvived: boolean;
  /** Fewest devices online (as the workers see it) at any sample during the outage. */
  minOnlineDuringOutage: number;
  /** Uptime flushes the replica reported failing (and kept buffered). */
  failedFlushes: number;
  /** From the restore until the first flush that got through. */
  firstFlushAfterRestoreMs: number | undefined;
  /** Slots missing from stored uptime over the whole window, outage included. */
  lost: { max: number; total: number };
  slotSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One replica process reaches PostgreSQL through a TCP proxy; a simulated fleet heartbeats into it; the proxy
 * is cut (every connection reset, new ones refused) for `outageMs` and restored. The replica must keep the
 * sessions, buffer up-minutes while flushes fail, and write them all once the database is back.
 */
export async function runPostgresOutageScenario(
  options: PostgresOutageOptions,
): Promise<PostgresOutageResult> {
  const started = Date.now();
  const event = (text: string) => options.onEvent?.(Date.now() - started, text);
  const target = new URL(REPLICA_POSTGRES_URL);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  let failedFlushes = 0;
  const cluster = await startReplicaCluster({
    replicas: 1,
    databaseUrlFor: (url) => {
      const viaProxy = new URL(url);
      viaProxy.port = String(proxy.port);
      return viaProxy.toString();
    },
    env: {
      IGNIS_EPOCH_SECONDS: String(options.epochSeconds),
      IGNIS_HEARTBEAT_SECONDS: String(options.heartbeatSeconds),
      IGNIS_LOG_LEVEL: "info",
    },
    onLine(_replica, line) {
      if (line.includes("uptime flush failed")) failedFlushes++;
    },
  });
  const replica = cluster.replicas[0]!;
  const stateRoot = mkdtempSync(join(tmpdir(), "ignis-pg-outage-"));
  const supplier = await resolveSimSupplier(replica.url, cluster.adminKey);
  const fleet = startHonestFleet({
    servers: [replica.url],
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
    const ids = fleet.devices().map((d) => d.deviceId);
    event(`${options.devices} devices online on one replica (database through a proxy on :${proxy.port})`);
    const windowFrom = Date.now();
    await sleep(options.steadyMs);

    await proxy.cut();
    event("PostgreSQL cut: every connection reset, new ones refused");
    let minOnline = options.devices;
    const outageEnds = Date.now() + options.outageMs;
    while (Date.now() < outageEnds) {
      minOnline = Math.min(minOnline, fleet.snapshot().online);
      await sleep(100);
    }
    event(
      `during the outage: at least ${minOnline} devices online; ${failedFlushes} uptime flushes failed and were kept`,
    );
    await proxy.restore();
    const restoredAt = Date.now();
    event("PostgreSQL restored");

    // The buffered minutes reach the database with the next successful flush.
    const windowTo = restoredAt + options.steadyMs;
    // Bounded: a run whose minutes never arrive goes on to report them missing below.
    await waitFor(
      "the outage's minutes to be stored",
      async () => {
        const gaps = await missingSlots(
          cluster.databaseUrl,
          ids,
          windowFrom,
          restoredAt - 1000,
          options.epochSeconds,
        );
        return [...gaps.values()].every((n) => n === 0);
      },
      { timeoutMs: 30_000, everyMs: 100 },
    ).catch(() => undefined);
    const firstFlushAfterRestoreMs = Date.now() - restoredAt;
    event(`outage minutes stored ${firstFlushAfterRestoreMs} ms after the restore`);
    await sleep(Math.max(0, windowTo - Date.now()));
    // The window's last slots are stored with the replica's next flush: read once they are, or after a bound.
    const readGaps = () => missingSlots(cluster.databaseUrl, ids, windowFrom, windowTo, options.epochSeconds);
    const gaps = await waitFor(
      "the window's last slots to be stored",
      async () => {
        const read = await readGaps();
        return [...read.values()].every((n) => n === 0) ? read : undefined;
      },
      { timeoutMs: 30_000, everyMs: 100 },
    ).catch(readGaps);
    const values = [...gaps.values()];
    event(
      `uptime read back over the whole window: ${values.reduce((x, y) => x + y, 0)} slot(s) missing in total`,
    );
    return {
      devices: options.devices,
      replicaSurvived: replica.running,
      minOnlineDuringOutage: minOnline,
      failedFlushes,
      firstFlushAfterRestoreMs,
      lost: { max: Math.max(0, ...values), total: values.reduce((x, y) => x + y, 0) },
      slotSeconds: options.epochSeconds / 60,
    };
  } finally {
    await fleet.stop();
    await cluster.stop();
    await proxy.close();
    rmSync(stateRoot, { recursive: true, force: true });
  }
}
