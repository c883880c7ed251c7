/**
 * Fault timeline: NATS goes away for 6 s between two replicas (replica A's link goes through a TCP proxy that
 * is cut). Replica B sends a message to a device on A every 250 ms; the timeline shows each send's outcome.
 *   npx tsx bench/fault-nats-outage.ts          (50 devices on A; IGNIS_BENCH_DEVICES to change)
 * Needs PostgreSQL on 127.0.0.1:5432 and NATS on 127.0.0.1:4222.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveSimSupplier } from "../apps/cli/src/sim/supplier-key.js";
import type { NatsBus } from "../apps/server/src/bus/nats-bus.js";
import { openDatabase } from "../apps/server/src/db/database.js";
import { startTestServer } from "../apps/server/src/testing/test-server.js";
import { startTcpProxy } from "../tests/faults/tcp-proxy.js";
import { startHonestFleet } from "../tests/replicas/honest-fleet.js";
import { createScratchDatabase } from "../tests/replicas/replica-cluster.js";
import { REPLICA_NATS_URL } from "../tests/replicas/services.js";

const devices = Number(process.env.IGNIS_BENCH_DEVICES ?? 50);
const started = Date.now();
const log = (text: string) =>
  console.log(`t+${((Date.now() - started) / 1000).toFixed(2).padStart(6)} s  ${text}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const scratch = await createScratchDatabase();
const nats = new URL(REPLICA_NATS_URL);
const proxy = await startTcpProxy({ host: nats.hostname, port: Number(nats.port) });
const replica = async (id: string, natsUrl: string) =>
  startTestServer({
    database: await openDatabase({ databaseUrl: scratch.url, poolSize: 4 }),
    env: {
      IGNIS_NATS_URL: natsUrl,
      IGNIS_REPLICA_ID: id,
      IGNIS_HEARTBEAT_SECONDS: "1",
      IGNIS_SECURITY_CONTAINMENT: "off",
    },
  });
const a = await replica("replica-a", `nats://127.0.0.1:${proxy.port}`);
const b = await replica("replica-b", REPLICA_NATS_URL);
const stateRoot = mkdtempSync(join(tmpdir(), "ignis-nats-bench-"));
const supplier = await resolveSimSupplier(a.url, a.adminKey);
const fleet = startHonestFleet({
  servers: [a.url],
  supplierKey: supplier.apiKey,
  stateRoot,
  devices,
});
await fleet.ready;
const ids = fleet.devices().map((d) => d.deviceId);
while (!ids.every((id) => b.server.ctx.gateway.isConnected(id))) await sleep(50);
log(`${devices} devices online on replica A; replica B knows where they are`);

const busA = a.server.ctx.bus as NatsBus;
let outcomes = { ok: 0, failed: 0 };
const sendRound = async (round: number) => {
  const id = ids[round % ids.length]!;
  const t0 = Date.now();
  const ok = await b.server.ctx.gateway.send(id, {
    type: "job.stop",
    jobId: `job_${String(round).padStart(26, "0")}`,
    reason: "cancelled",
  });
  outcomes = ok ? { ...outcomes, ok: outcomes.ok + 1 } : { ...outcomes, failed: outcomes.failed + 1 };
  log(
    `B → device on A: ${ok ? "delivered" : "NOT delivered"} in ${Date.now() - t0} ms (A's bus ${busA.connected ? "up" : "down"}, online ${fleet.snapshot().online})`,
  );
};

let round = 0;
for (const [phase, ms] of [
  ["before", 1_500],
  ["outage", 6_000],
  ["after", 4_000],
] as const) {
  if (phase === "outage") {
    await proxy.cut();
    log("NATS cut for replica A");
  } else if (phase === "after") {
    await proxy.restore();
    log("NATS restored for replica A");
  }
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await sendRound(round++);
    await sleep(250);
  }
}
log(
  `result: ${outcomes.ok} delivered, ${outcomes.failed} refused; A refused ${busA.stats().refused} publishes while ` +
    `cut; sessions on A throughout: ${a.server.ctx.gateway.stats().sessions}/${devices}`,
);
await fleet.stop();
await a.stop();
await b.stop();
await a.server.ctx.database.close();
await b.server.ctx.database.close();
await proxy.close();
await scratch.drop();
rmSync(stateRoot, { recursive: true, force: true });
// In-process servers leave idle keep-alive sockets and timers behind; the timeline is done.
process.exit(0);
