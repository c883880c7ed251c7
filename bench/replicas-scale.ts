/**
 * Two replicas holding a large fleet over one PostgreSQL and NATS, checked as well as measured: every session
 * opens and stays open, every heartbeat that asked for an ack gets one, both replicas ingest what their devices
 * send, and a replica reaches the devices held by the other (each message crosses NATS and is acknowledged),
 * none refused. Exits 1 when any check fails.
 *
 *   npx tsx bench/replicas-scale.ts [--sessions 36000] [--heartbeat-seconds 10] [--seconds 30] [--shards 3]
 *
 * Each replica is an ignis-server process of its own (bench/_heartbeat-server.ts); devices alternate between A
 * and B. The fleet is enrolled as bench/floor.ts enrolls it (a few over HTTP, the rest copies, all verified),
 * and driven by `--shards` load processes (bench/_replica-load-shard.ts), because one process can hold only as
 * many sockets as its open-file limit: a replica needs one descriptor per session, so the largest fleet two
 * replicas can hold on one machine is about twice that limit (`ulimit -n`). Every session beats once per
 * `--heartbeat-seconds`, spread over the interval, for `--seconds`; then A sends `job.stop` (naming no job
 * the device runs, which a worker ignores) to B's devices with 16 in flight for 10 s.
 * Needs PostgreSQL on 127.0.0.1:5432 and NATS on 127.0.0.1:4222 (IGNIS_BENCH_DATABASE_URL, IGNIS_TEST_NATS_URL).
 */
import { type ChildProcess, fork } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { decodeFromCompressedBase64 } from "hdr-histogram-js";
import { keyToPem } from "../apps/cli/src/worker/device-key.js";
import { createSupplier, enrollLeanDevices, type HarnessServer, scratchDatabase } from "./_heartbeat-load.js";
import type { DeliverReport, StatsReport } from "./_heartbeat-server.js";
import { newLatencyHistogram } from "./_latency.js";
import type { ShardDevice, ShardReport, ShardRequest } from "./_replica-load-shard.js";
import { startReplicaPair } from "./_replica-pair.js";
import { seedVerifiedFleet } from "./_verified-fleet.js";

const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "36000" },
    "heartbeat-seconds": { type: "string", default: "10" },
    seconds: { type: "string", default: "30" },
    shards: { type: "string", default: "3" },
  },
});
const SESSIONS = Number(values.sessions);
const HEARTBEAT_SECONDS = Number(values["heartbeat-seconds"]);
const SECONDS = Number(values.seconds);
const SHARDS = Number(values.shards);

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const database = await scratchDatabase();
if (!database) throw new Error("this bench needs PostgreSQL (IGNIS_BENCH_DATABASE_URL)");
const { a, b, removeDataDir } = await startReplicaPair(
  database.url,
  {
    IGNIS_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
    IGNIS_LOG_LEVEL: "error",
    // Proofs were passed when the fleet was seeded; none is due during the run.
    IGNIS_CHALLENGE_MEAN_SECONDS: String(7 * 86_400),
  },
  ["--expose-gc"],
);
const replicas: [HarnessServer, HarnessServer] = [a, b];
log(`2 replicas on PostgreSQL + NATS; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);

const t0 = performance.now();
const supplierKey = await createSupplier(a.url, a.adminKey);
const devices = await seedVerifiedFleet(
  database.url,
  await enrollLeanDevices(a.url, supplierKey, Math.min(SESSIONS, 20)),
  SESSIONS,
);
log(`enrolled and verified ${devices.length} devices in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

/** A load process, and a way to ask it something and wait for the answer of the given kind. */
interface Shard {
  child: ChildProcess;
  ask<T>(request: ShardRequest, answer: string): Promise<T>;
}

function startShard(): Promise<Shard> {
  const child = fork(new URL("./_replica-load-shard.ts", import.meta.url).pathname, [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ask = <T>(request: ShardRequest, answer: string) =>
    new Promise<T>((resolve) => {
      const on = (m: { kind: string }) => {
        if (m.kind !== answer) return;
        child.off("message", on);
        resolve(m as T);
      };
      child.on("message", on);
      child.send(request);
    });
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve({ child, ask }));
    child.once("exit", (code) => reject(new Error(`a load shard exited during start (${code})`)));
  });
}

const shards = await Promise.all(Array.from({ length: SHARDS }, startShard));
const replicaOf = (i: number) => replicas[i % 2]!;
const slices: ShardDevice[][] = shards.map(() => []);
devices.forEach((d, i) => {
  slices[i % SHARDS]!.push({ deviceId: d.deviceId, pem: keyToPem(d.key), url: replicaOf(i).url });
});

// Opens: every shard at once, 100 handshakes in flight each.
const t1 = performance.now();
const opened = await Promise.all(
  shards.map((s, k) =>
    s.ask<{ opened: number; failed: number; ms: number }>(
      { kind: "open", devices: slices[k]!, inFlight: 100, firstAddress: k * 200 },
      "opened",
    ),
  ),
);
const openSeconds = (performance.now() - t1) / 1000;
const openFailed = opened.reduce((n, o) => n + o.failed, 0);
log(`${SESSIONS - openFailed} of ${SESSIONS} sessions open in ${openSeconds.toFixed(1)} s`);

// Steady state: every session beats once per interval; a first interval to settle, then the timed window.
for (const s of shards)
  s.child.send({ kind: "beat", heartbeatSeconds: HEARTBEAT_SECONDS } satisfies ShardRequest);
await sleep(HEARTBEAT_SECONDS * 1000);
const reports = () =>
  Promise.all(shards.map((s) => s.ask<ShardReport>({ kind: "report", resetAcks: true }, "report")));
const stats = () => Promise.all(replicas.map((r) => r.ask<StatsReport>("stats")));
await reports();
const before = await stats();
const t2 = performance.now();
await sleep(SECONDS * 1000);
const after = await stats();
const window = await reports();
const elapsed = (performance.now() - t2) / 1000;
const ingested = [0, 1].map((i) => (after[i]!.heartbeats - before[i]!.heartbeats) / elapsed);
const cpuPerBeat = [0, 1].map(
  (i) =>
    (after[i]!.cpuMicros - before[i]!.cpuMicros) / Math.max(1, after[i]!.heartbeats - before[i]!.heartbeats),
);
const acks = newLatencyHistogram();
for (const r of window) acks.add(decodeFromCompressedBase64(r.ackHistogram));
const ackMs = (p: number) => (acks.getValueAtPercentile(p) / 1000).toFixed(1);
log(
  `steady ${elapsed.toFixed(0)} s: ingested ${ingested.map((x) => x.toFixed(0)).join(" + ")} heartbeats/s (A + B), ack p50 ${ackMs(50)} ms, p99 ${ackMs(99)} ms, max ${ackMs(100)} ms`,
);

// A reaches B's devices over NATS while the fleet keeps beating.
const onB = devices.filter((_, i) => i % 2 === 1).map((d) => d.deviceId);
const delivery = await a.ask<DeliverReport>({
  kind: "deliver",
  deviceIds: onB,
  seconds: 10,
  concurrency: 16,
});
const deliveryLatency = newLatencyHistogram();
for (const micros of delivery.latencyMicros) deliveryLatency.recordValue(Math.max(1, micros));
const deliverMs = (p: number) => (deliveryLatency.getValueAtPercentile(p) / 1000).toFixed(1);
log(
  `A → devices on B: ${(delivery.delivered / delivery.seconds).toFixed(0)}/s delivered, ${delivery.refused} refused, p99 ${deliverMs(99)} ms`,
);

// Quiet: no more beats; every ack asked must arrive, every session must still be open on its replica.
for (const s of shards) s.child.send({ kind: "quiet" } satisfies ShardRequest);
await sleep(3000);
const final = await reports();
const held = await stats();
const memory = await Promise.all(replicas.map((r) => r.ask<{ rss: number; heapUsed: number }>("memory")));
const sum = (f: (r: ShardReport) => number) => final.reduce((n, r) => n + f(r), 0);

const checks: [string, boolean, string][] = [
  ["every session opened", openFailed === 0, `${SESSIONS - openFailed} of ${SESSIONS}`],
  ["no session dropped", sum((r) => r.dropped) === 0, `${sum((r) => r.dropped)} dropped`],
  [
    "each replica holds its half",
    held[0]!.sessions === Math.ceil(SESSIONS / 2) && held[1]!.sessions === Math.floor(SESSIONS / 2),
    `A ${held[0]!.sessions}, B ${held[1]!.sessions}`,
  ],
  [
    "every heartbeat ingested (steady window, within 5%)",
    ingested[0]! + ingested[1]! >= 0.95 * (SESSIONS / HEARTBEAT_SECONDS),
    `${(ingested[0]! + ingested[1]!).toFixed(0)}/s of ${(SESSIONS / HEARTBEAT_SECONDS).toFixed(0)}/s`,
  ],
  [
    "every ack asked arrived",
    sum((r) => r.acksMissing) === 0,
    `${sum((r) => r.acksMissing)} missing of ${sum((r) => r.acksAsked)}`,
  ],
  [
    "A reaches B's devices, none refused",
    delivery.delivered > 0 && delivery.refused === 0,
    `${delivery.delivered} delivered, ${delivery.refused} refused`,
  ],
];

for (const s of shards) s.child.send({ kind: "stop" } satisfies ShardRequest);
await a.stop();
await b.stop();
await database.drop();
removeDataDir();

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
console.log(
  `\n${SESSIONS} sessions over 2 replicas, a heartbeat every ${HEARTBEAT_SECONDS} s; load average at the end ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
);
console.log("| figure | A | B |");
console.log("|---|---:|---:|");
console.log(`| sessions held | ${held[0]!.sessions} | ${held[1]!.sessions} |`);
console.log(`| heartbeats ingested /s (steady) | ${ingested[0]!.toFixed(0)} | ${ingested[1]!.toFixed(0)} |`);
console.log(
  `| server CPU per heartbeat | ${cpuPerBeat[0]!.toFixed(1)} µs | ${cpuPerBeat[1]!.toFixed(1)} µs |`,
);
console.log(`| RSS after GC | ${mb(memory[0]!.rss)} | ${mb(memory[1]!.rss)} |`);
console.log(
  `\nopens: ${(SESSIONS / openSeconds).toFixed(0)}/s over both; acks p50 / p99 / max ${ackMs(50)} / ${ackMs(99)} / ${ackMs(100)} ms; A → B ${(delivery.delivered / delivery.seconds).toFixed(0)}/s, p50 / p99 ${deliverMs(50)} / ${deliverMs(99)} ms`,
);
console.log("\n| check | result | |");
console.log("|---|---|---|");
for (const [name, ok, detail] of checks) console.log(`| ${name} | ${ok ? "pass" : "FAIL"} | ${detail} |`);
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
