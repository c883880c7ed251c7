/**
 * Two replicas over one PostgreSQL and NATS: heartbeats ingested by both together, and the rate and latency of
 * messages one replica sends to devices connected to the other (each crosses NATS and is acknowledged).
 *
 *   npx tsx bench/replicas-throughput.ts [--sessions 1000] [--rates 10000,20000] [--seconds 8]
 *                                        [--concurrency 1,16,64]
 *
 * Each replica is an ignis-server process of its own (bench/_heartbeat-server.ts) with a 50 ms heartbeat
 * interval; half the sessions connect to A and half to B, and this process drives them as in
 * heartbeat-ingest.ts. Then A sends `job.stop` messages to B's devices for `--seconds` with 1, 16 and 64 sends
 * in flight. On one 2-core machine the two replicas, PostgreSQL, NATS and this load generator share the same
 * cores, so the heartbeat total shows the cost of a second replica rather than twice the throughput; what a
 * replica adds on its own machine is the per-replica figure of heartbeat-ingest.ts.
 * Needs PostgreSQL on 127.0.0.1:5432 and NATS on 127.0.0.1:4222 (IGNIS_BENCH_DATABASE_URL, IGNIS_TEST_NATS_URL).
 */
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import {
  AckClock,
  createSupplier,
  enrollLeanDevices,
  offerHeartbeats,
  openLeanSessions,
  scratchDatabase,
} from "./_heartbeat-load.js";
import type { DeliverReport, StatsReport } from "./_heartbeat-server.js";
import { newLatencyHistogram } from "./_latency.js";
import { startReplicaPair } from "./_replica-pair.js";

const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "1000" },
    rates: { type: "string", default: "10000,20000" },
    seconds: { type: "string", default: "8" },
    concurrency: { type: "string", default: "1,16,64" },
  },
});
const SESSIONS = Number(values.sessions);
const RATES = values.rates!.split(",").map(Number);
const SECONDS = Number(values.seconds);
const CONCURRENCY = values.concurrency!.split(",").map(Number);

const database = await scratchDatabase();
if (!database) throw new Error("this bench needs PostgreSQL (IGNIS_BENCH_DATABASE_URL)");
const { a, b, removeDataDir } = await startReplicaPair(database.url, { IGNIS_HEARTBEAT_SECONDS: "0.05" });
console.log(
  `2 replicas on PostgreSQL + NATS; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
);

const supplierKey = await createSupplier(a.url, a.adminKey);
const devices = await enrollLeanDevices(a.url, supplierKey, SESSIONS);
const clock = new AckClock();
// Even indexes on A, odd on B.
const sessions = await openLeanSessions(devices, (i) => (i % 2 === 0 ? a.url : b.url), clock);
const onB = devices.filter((_, i) => i % 2 === 1).map((d) => d.deviceId);
console.log(`${SESSIONS} sessions open, ${SESSIONS / 2} on each replica`);

const both = async () => Promise.all([a.ask<StatsReport>("stats"), b.ask<StatsReport>("stats")]);
const heartbeatRows: string[] = [];
for (const rate of RATES) {
  await offerHeartbeats(sessions, rate, 3);
  clock.reset();
  const before = await both();
  const t0 = performance.now();
  const sent = await offerHeartbeats(sessions, rate, SECONDS, { clock });
  const after = await both();
  const elapsed = (performance.now() - t0) / 1000;
  const per = [0, 1].map((i) => (after[i]!.heartbeats - before[i]!.heartbeats) / elapsed);
  const cpu = [0, 1].map(
    (i) =>
      (after[i]!.cpuMicros - before[i]!.cpuMicros) /
      Math.max(1, after[i]!.heartbeats - before[i]!.heartbeats),
  );
  heartbeatRows.push(
    `| ${rate} | ${Math.round(sent / elapsed)} | ${Math.round(per[0]! + per[1]!)} | ${Math.round(per[0]!)} / ${Math.round(per[1]!)} | ${clock.ms(50)} | ${clock.ms(99)} | ${cpu[0]!.toFixed(1)} / ${cpu[1]!.toFixed(1)} |`,
  );
  console.log(heartbeatRows.at(-1));
}

// Let presence settle: A must know every device on B before sending to it.
await new Promise((r) => setTimeout(r, 500));
const deliverRows: string[] = [];
for (const concurrency of CONCURRENCY) {
  const report = await a.ask<DeliverReport>({
    kind: "deliver",
    deviceIds: onB,
    seconds: SECONDS,
    concurrency,
  });
  const histogram = newLatencyHistogram();
  for (const micros of report.latencyMicros) histogram.recordValue(Math.max(1, micros));
  const ms = (p: number) => (histogram.getValueAtPercentile(p) / 1000).toFixed(1);
  deliverRows.push(
    `| ${concurrency} | ${Math.round(report.delivered / report.seconds)} | ${report.refused} | ${ms(50)} | ${ms(99)} | ${ms(100)} |`,
  );
  console.log(deliverRows.at(-1));
}

for (const s of sessions) s.close();
await a.stop();
await b.stop();
await database.drop();
removeDataDir();
console.log(`\nload average at the end: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);
console.log(
  "| offered /s | sent /s | ingested /s (A + B) | A / B | p50 ms | p99 ms | server CPU µs / heartbeat (A / B) |",
);
console.log("|---:|---:|---:|---:|---:|---:|---:|");
for (const r of heartbeatRows) console.log(r);
console.log("\n| A → device on B, sends in flight | delivered /s | refused | p50 ms | p99 ms | max ms |");
console.log("|---:|---:|---:|---:|---:|---:|");
for (const r of deliverRows) console.log(r);
process.exit(0);
