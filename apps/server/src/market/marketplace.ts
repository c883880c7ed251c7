import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import type { Gateway } from "../gateway/gateway.js";
import { type IntervalJob, startIntervalJob } from "../jobs/interval-job.js";
import { runExclusive } from "../jobs/run-exclusive.js";
import type { MeshCoordinator } from "../mesh/mesh-coordinator.js";
import { appendJobLog, applyJobStatus } from "./job-events.js";
import { runLifecycle } from "./lifecycle.js";
import type { JobChannel, MarketContext, MarketLog, MarketSettings } from "./market-context.js";
import { meterLiveJobs } from "./metering.js";
import type { PriceBook } from "./price-book.js";
import { proofCountsSince } from "./proof-pass-rate.js";
import type { ProofCounts } from "./reliability.js";

/** The running marketplace of one replica: its context for the routes, and its timers. */
export interface Marketplace {
  context: MarketContext;
  /** Meters this replica's live jobs and runs one lifecycle pass now (tests and shutdown use it). */
  runOnce(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** The market's settings from the server's configuration. */
export function marketSettings(config: Config): MarketSettings {
  const heartbeatMs = config.heartbeatSeconds * 1000;
  const flushMs = config.worker.uptimeFlushSeconds * 1000;
  return {
    billingMinuteMs: config.market.billingMinuteSeconds * 1000,
    feeBps: config.market.feeBps,
    maxDevices: config.market.maxDevices,
    maxHours: config.market.maxHours,
    archiveMaxBytes: config.market.archiveMaxBytes,
    logMaxBytesPerJob: config.market.logMaxBytesPerJob,
    epochSeconds: config.epochSeconds,
    stakePerGpu: config.stakes.perGpu,
    stakePendingSeconds: config.stakes.pendingSeconds,
    // The gateway's own offline threshold (two heartbeats) plus two uptime flushes, as its backstop uses.
    lostAfterMs: 2 * heartbeatMs + 2 * flushMs + 2000,
    flushMs,
    startTimeoutMs: Math.max(10_000, 4 * heartbeatMs + 2 * flushMs),
    // Long enough for a device that blinked (a late flush, a quick reconnect) to be seen again, a few times over.
    replaceWithinMs: Math.max(60_000, 4 * (2 * heartbeatMs + 2 * flushMs + 2000)),
  };
}

/** The gateway as a job channel: delivery anywhere and liveness of sessions. */
export function gatewayChannel(gateway: Gateway): JobChannel {
  return {
    send(deviceId, message) {
      void gateway.send(deviceId, message).catch(() => false);
    },
    isLive: (deviceId) => gateway.isConnected(deviceId),
  };
}

/**
 * Wires the marketplace: job reports from the gateway, per-replica metering every quarter billing minute, and a
 * lifecycle pass (ends, losses, replacements, hourly settlement) that one replica at a time runs under a lease.
 */
export function createMarketplace(options: {
  db: Db;
  config: Config;
  gateway: Gateway;
  prices: PriceBook;
  proofCounts?: ProofCounts | undefined;
  log: MarketLog;
  now?: () => number;
  mesh?: MeshCoordinator | undefined;
  /** Up to when this replica's last-seen times are written (the uptime tracker's `storedThroughMs`). */
  storedThrough?: () => number;
}): Marketplace {
  const settings = marketSettings(options.config);
  const context: MarketContext = {
    db: options.db,
    settings,
    prices: options.prices,
    proofCounts: options.proofCounts ?? proofCountsSince(options.now ?? Date.now),
    channel: gatewayChannel(options.gateway),
    now: options.now ?? Date.now,
    log: options.log,
    mesh: options.mesh,
    storedThrough: options.storedThrough,
  };
  // A device's reports apply in the order it sent them: the gateway runs handlers as messages arrive, and a
  // job's `exited` overtaking its `running` on a pooled database left the job unmetered.
  const inOrder = inOrderPerKey();
  options.gateway.onMessage("job.status", (session, message) =>
    inOrder(session.deviceId, () => applyJobStatus(context, session.deviceId, message)),
  );
  options.gateway.onMessage("job.log", async (session, message) => {
    await appendJobLog(context, session.deviceId, message);
  });
  const tickMs = Math.min(5000, Math.max(100, settings.billingMinuteMs / 4));
  const resendAfterMs = Math.max(1000, 2 * options.config.heartbeatSeconds * 1000);
  const lifecycle = () =>
    runExclusive(options.db, "market.lifecycle", () => runLifecycle(context, resendAfterMs), {
      holder: options.config.replicaId,
      ttlMs: 60_000,
    }).then(() => undefined);
  let jobs: IntervalJob[] = [];
  return {
    context,
    async runOnce() {
      await meterLiveJobs(context);
      await lifecycle();
    },
    start() {
      jobs = [
        startIntervalJob({
          name: "market.meter",
          intervalMs: tickMs,
          tick: () => meterLiveJobs(context).then(() => undefined),
          log: options.log,
        }),
        startIntervalJob({ name: "market.lifecycle", intervalMs: tickMs, tick: lifecycle, log: options.log }),
      ];
    },
    async stop() {
      await Promise.all(jobs.map((j) => j.stop()));
      jobs = [];
    },
  };
}

/** Runs the tasks of one key one after another, in the order they were queued; other keys run alongside. */
function inOrderPerKey(): (key: string, task: () => Promise<void>) => Promise<void> {
  const tails = new Map<string, Promise<void>>();
  return (key, task) => {
    const run = (tails.get(key) ?? Promise.resolve()).then(task);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}
