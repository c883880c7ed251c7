import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The Prometheus metrics of one server process. */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<"method" | "route" | "status">;
  wsSessions: Gauge;
  heartbeats: Counter;
  /**
   * Worker sockets refused before their handshake, by reason (`server_busy`: admission control; `rate_limited`:
   * their address's cap and line).
   */
  workerSocketsRefused: Counter<"reason">;
  workerSocketsQueued: Counter;
  /** Worker upgrades that waited in their address's line for a place among its sockets in their handshake. */
  workerSocketsLined: Counter;
  alerts: Counter<"rule" | "severity">;
  proofVerdicts: Counter<"trigger" | "outcome">;
  epochClose: Histogram;
  dbPool: Gauge<"state">;
}

/** Creates a fresh registry (one per server, so tests can run several servers in one process). */
export function createMetrics(
  version: string,
  replicaId: string,
  poolStats: () => Record<"total" | "idle" | "waiting", number>,
): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ replica: replicaId });
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges with a counter's `_total` suffix, which `promtool check metrics` refuses; the
  // per-type gauges without the suffix (nodejs_active_handles{type}, ...) carry the same figures.
  for (const name of [
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_active_resources_total",
  ]) {
    registry.removeSingleMetric(name);
  }
  new Gauge({
    name: "ignis_build_info",
    help: "Build information",
    labelNames: ["version", "node"],
    registers: [registry],
  }).set({ version, node: process.version }, 1);
  const dbPool = new Gauge({
    name: "ignis_db_pool_connections",
    help: "Database pool connections by state",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const s = poolStats();
      this.set({ state: "total" }, s.total);
      this.set({ state: "idle" }, s.idle);
      this.set({ state: "waiting" }, s.waiting);
    },
  });
  return {
    registry,
    dbPool,
    httpDuration: new Histogram({
      name: "ignis_http_request_duration_seconds",
      help: "HTTP request latency",
      labelNames: ["method", "route", "status"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    wsSessions: new Gauge({
      name: "ignis_worker_sessions",
      help: "Open worker sessions",
      registers: [registry],
    }),
    heartbeats: new Counter({
      name: "ignis_heartbeats_total",
      help: "Heartbeats accepted",
      registers: [registry],
    }),
    workerSocketsRefused: new Counter({
      name: "ignis_worker_sockets_refused_total",
      help: "Worker sockets refused before their handshake, by reason (server_busy: admission control; rate_limited: an address's cap)",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    workerSocketsQueued: new Counter({
      name: "ignis_worker_sockets_queued_total",
      help: "Worker upgrades that waited in the admission queue for their turn (not refused)",
      registers: [registry],
    }),
    workerSocketsLined: new Counter({
      name: "ignis_worker_sockets_lined_total",
      help: "Worker upgrades that waited in their address's line for a place among its sockets in their handshake",
      registers: [registry],
    }),
    alerts: new Counter({
      name: "ignis_security_alerts_total",
      help: "Security alerts raised",
      labelNames: ["rule", "severity"] as const,
      registers: [registry],
    }),
    proofVerdicts: new Counter({
      name: "ignis_proof_verdicts_total",
      help: "Proof-of-GPU challenges decided by this replica, by what triggered them and how they ended",
      labelNames: ["trigger", "outcome"] as const,
      registers: [registry],
    }),
    epochClose: new Histogram({
      name: "ignis_epoch_close_seconds",
      help: "Wall time of each reward epoch close this replica ran (the target is 10 s at 600,000 devices)",
      buckets: [0.1, 0.5, 1, 2, 5, 10, 20, 60],
      registers: [registry],
    }),
  };
}
