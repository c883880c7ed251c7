/**
 * Heartbeats ingested per second by one server process, driven by this (separate) load process.
 *
 *   npx tsx bench/heartbeat-ingest.ts [--sessions 1000] [--rates 10000,20000,30000] [--seconds 10]
 *
 * The server (bench/_heartbeat-server.ts, on a scratch PostgreSQL database when one is reachable, else PGlite)
 * runs with a 50 ms heartbeat interval (the shortest it accepts), so each session may send 40 heartbeats a
 * second before its throttle drops them; 1000 sessions at 20 a second each are 20,000 a second. This process opens `--sessions`
 * authenticated sessions (answering their proof-of-GPU challenges) and offers each rate for `--seconds` after a
 * warm-up. Ingested = heartbeats the gateway accepted (its counter, read over IPC). Latency = send →
 * `heartbeat.ack` for the heartbeats that ask for one (one in HEARTBEAT_ACK_EVERY per session, as the worker does), in an HDR histogram; it includes this
 * process's own queueing, so it bounds the server's handling time from above.
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
  startHarnessServer,
} from "./_heartbeat-load.js";
import type { StatsReport } from "./_heartbeat-server.js";

const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "1000" },
    rates: { type: "string", default: "10000,20000,30000" },
    seconds: { type: "string", default: "10" },
  },
});
const SESSIONS = Number(values.sessions);
const RATES = values.rates!.split(",").map(Number);
const SECONDS = Number(values.seconds);
/** The server's heartbeat interval: each session may send 2 / interval a second before it is throttled. */
const HEARTBEAT_SECONDS = 0.05;

const database = await scratchDatabase();
const server = await startHarnessServer({
  IGNIS_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
  IGNIS_SECURITY_CONTAINMENT: "off",
  ...(database ? { DATABASE_URL: database.url } : {}),
});
console.log(
  `server database: ${database ? "PostgreSQL (scratch database)" : "PGlite"}; load average ${loadavg()[0]!.toFixed(1)}`,
);
const supplierKey = await createSupplier(server.url, server.adminKey);
let t = Date.now();
const devices = await enrollLeanDevices(server.url, supplierKey, SESSIONS);
console.log(`enrolled ${SESSIONS} devices in ${((Date.now() - t) / 1000).toFixed(1)} s`);

const clock = new AckClock();
t = Date.now();
const sessions = await openLeanSessions(devices, () => server.url, clock);
console.log(`opened ${sessions.length} sessions in ${((Date.now() - t) / 1000).toFixed(1)} s`);

const rows: string[] = [];
for (const rate of RATES) {
  await offerHeartbeats(sessions, rate, 3);
  clock.reset();
  const before = await server.ask<StatsReport>("stats");
  const t0 = performance.now();
  const sent = await offerHeartbeats(sessions, rate, SECONDS, { clock });
  const after = await server.ask<StatsReport>("stats");
  const elapsed = (performance.now() - t0) / 1000;
  const ingested = (after.heartbeats - before.heartbeats) / elapsed;
  // Server CPU per accepted heartbeat (the whole process: sockets, parsing, acks, flushes, timers).
  const cpuPerBeat = (after.cpuMicros - before.cpuMicros) / Math.max(1, after.heartbeats - before.heartbeats);
  rows.push(
    `| ${rate} | ${Math.round(sent / elapsed)} | ${Math.round(ingested)} | ${after.throttled - before.throttled} | ${clock.ms(50)} | ${clock.ms(99)} | ${clock.ms(100)} | ${cpuPerBeat.toFixed(1)} | ${Math.round(1e6 / cpuPerBeat)} | ${after.sessions} |`,
  );
  console.log(rows.at(-1));
}

for (const s of sessions) s.close();
await server.stop();
await database?.drop();
console.log(
  `\nload average at the end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${cpus().length} cores`,
);
console.log(
  "| offered /s | sent /s | ingested /s | throttled | p50 ms | p99 ms | max ms | server CPU µs / heartbeat | heartbeats / CPU-second | sessions |",
);
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) console.log(r);
process.exit(0);
