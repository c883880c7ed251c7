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

/** Requests the bench sends. */
export type HarnessRequest = { kind: "stats" } | { kind: "memory" } | { kind: "stop" };

const config = loadConfig(process.env);
const server = await createServer(config);
await server.listen();
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
    send({ kind: "stats", ...server.ctx.gateway.stats(), cpuMicros: cpu.user + cpu.system });
  }
  if (request.kind === "memory") {
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    send({ kind: "memory", ...process.memoryUsage(), sessions: server.ctx.gateway.stats().sessions });
  }
  if (request.kind === "stop") {
    await server.close();
    process.exit(0);
  }
});
