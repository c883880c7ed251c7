/**
 * One ignis-server in a process of its own, for the worker-session benches (heartbeat-ingest.ts,
 * session-memory.ts). Configured from the environment like `ignis-server`; answers the bench over IPC with
 * its address, the gateway's counters and its memory (after a full GC when run with --expose-gc).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../apps/server/src/config.js";
import { ADMIN_KEY_FILE } from "../apps/server/src/identity/bootstrap-admin.js";
import { createServer } from "../apps/server/src/server.js";
import { type LoopDelay, watchLoopDelay } from "./_loop-delay.js";

/** Requests the bench sends. */
export type HarnessRequest =
  | { kind: "stats" }
  | { kind: "memory" }
  | { kind: "stop" }
  | { kind: "deliver"; deviceIds: string[]; seconds: number; concurrency: number };

/**
 * The gateway's counters and the process's CPU time, for a `stats` request, with its event-loop delay since the
 * previous `stats` request.
 */
export interface StatsReport extends LoopDelay {
  heartbeats: number;
  throttled: number;
  sessions: number;
  cpuMicros: number;
}

/** What a `deliver` run reports: sends acknowledged by the device's replica, and their latencies in µs. */
export interface DeliverReport {
  kind: "deliver";
  delivered: number;
  refused: number;
  seconds: number;
  latencyMicros: number[];
}

const config = loadConfig(process.env);
const server = await createServer(config);
await server.listen();
const loop = watchLoopDelay();
const send = (message: unknown) => process.send?.(message);
send({
  kind: "ready",
  url: `http://127.0.0.1:${config.port}`,
  adminKey: readFileSync(join(config.dataDir, ADMIN_KEY_FILE), "utf8").trim(),
});

process.on("message", async (raw) => {
  const request = raw as HarnessRequest;
  if (request.kind === "stats") {
    const cpu = process.cpuUsage();
    send({ kind: "stats", ...server.ctx.gateway.stats(), cpuMicros: cpu.user + cpu.system, ...loop.take() });
  }
  if (request.kind === "memory") {
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    send({ kind: "memory", ...process.memoryUsage(), sessions: server.ctx.gateway.stats().sessions });
  }
  if (request.kind === "deliver") send(await deliver(request));
  if (request.kind === "stop") {
    await server.close();
    process.exit(0);
  }
});

/**
 * Sends `job.stop` messages to the given devices from this replica for `seconds`, `concurrency` at a time. The
 * devices are connected to another replica, so each send crosses NATS and resolves when that replica has
 * written it to the device's socket and acknowledged. The message names a job the device does not run, which a
 * worker ignores.
 */
async function deliver(request: Extract<HarnessRequest, { kind: "deliver" }>): Promise<DeliverReport> {
  const latencyMicros: number[] = [];
  let delivered = 0;
  let refused = 0;
  let n = 0;
  const started = performance.now();
  const until = started + request.seconds * 1000;
  const lane = async () => {
    while (performance.now() < until) {
      const id = request.deviceIds[n % request.deviceIds.length]!;
      const jobId = `job_${String(n++).padStart(26, "0")}`;
      const t0 = performance.now();
      const ok = await server.ctx.gateway.send(id, { type: "job.stop", jobId, reason: "cancelled" });
      if (ok) {
        delivered++;
        latencyMicros.push(Math.round((performance.now() - t0) * 1000));
      } else refused++;
    }
  };
  await Promise.all(Array.from({ length: request.concurrency }, lane));
  return {
    kind: "deliver",
    delivered,
    refused,
    seconds: (performance.now() - started) / 1000,
    latencyMicros,
  };
}
