/**
 * The session layer against its floor: a bare `ws` server that parses and records each message
 * (bench/_floor-server.ts) and the real ignis-server, under the same load, in one run, phase by phase, with the
 * ratio of each figure printed at the end.
 *
 *   npm run bench:floor [-- --sessions 5000 --base 1000 --step-seconds 3 --fixed-seconds 5]
 *   npm run bench:floor -- --phases opens,storm [--cpu-prof DIR]   # only the handshake phases, profiled
 *
 * Ignis runs on a scratch PostgreSQL database (PostgreSQL is required) with a 0.1 s heartbeat interval, so a
 * session may send 20 heartbeats a second before its throttle drops any. Devices are enrolled over HTTP and
 * given a passed proof of GPU in the scratch database, as a running fleet's devices have, so a reconnect is a
 * handshake and not a new device's first challenge. Both servers get the same device keys and the same frames,
 * built by the same load process (bench/_session-client.ts: the frames a worker sends, an ack asked for one
 * heartbeat in four). Phases, each run against the floor and then Ignis:
 *
 * 1. session opens: `--base` devices connect at once (250 handshakes in flight), then the rest up to
 *    `--sessions`; opens per second = sessions / time until the last hello; server CPU per open = the server
 *    process's CPU time over both batches / sessions (less sensitive than the rate to the load beside it).
 * 2. memory: RSS and heap after a full GC with `--base` heartbeating sessions and with `--sessions` of them;
 *    per session = the growth / the sessions added.
 * 3. throughput ramp: heartbeats offered over all sessions at rising rates for `--step-seconds` each;
 *    a server keeps up while it ingests ≥ 95% of what was sent. Best = the highest such ingest.
 * 4. fixed rate: 60% of the floor's best for `--fixed-seconds`: server CPU per heartbeat, and send → ack
 *    p50/p99 (including this process's own queueing, so an upper bound), and the event-loop delay (p99, max) of
 *    the server and of this load process over the same window, which tells a server that stalls (a GC, a long
 *    flush) from one that is merely busy, and the load generator's stalls from the server's.
 * 5. restart and storm: the server is stopped (Ignis: SIGTERM-like graceful close) and started again, the
 *    real `ignis-server` binary for Ignis; time from spawn until TCP connections are accepted (a starting Ignis
 *    answers 503 `starting`) and until it is ready (/healthz 200); every device dials as soon as the port
 *    accepts (each honouring Retry-After: `starting`, then `server_busy` from admission control); re-auths per
 *    second = devices / time from the first hello to the last (the pace at which the restarted server takes its
 *    fleet back; "ready" is read from /healthz, which a server busy with the storm answers late, so it is not the
 *    start of that span), and spawn → every device live, end to end.
 *
 * `--phases` runs only the named phases (opens, memory, ramp, fixed, storm; fixed needs ramp) and prints only
 * their rows. `--cpu-prof DIR` runs Ignis (the harness and the restarted binary) with `--cpu-prof`, writing a
 * .cpuprofile per process into DIR when it exits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../apps/server/src/testing/test-server.js";
import {
  AckClock,
  createSupplier,
  enrollLeanDevices,
  type HarnessServer,
  type LeanDevice,
  scratchDatabase,
  startHarnessServer,
} from "./_heartbeat-load.js";
import type { StatsReport } from "./_heartbeat-server.js";
import { watchLoopDelay } from "./_loop-delay.js";
import { BenchSession } from "./_session-client.js";
import { seedVerifiedFleet } from "./_verified-fleet.js";

const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "5000" },
    base: { type: "string", default: "1000" },
    "step-seconds": { type: "string", default: "3" },
    "fixed-seconds": { type: "string", default: "5" },
    rates: { type: "string", default: "10000,20000,30000,40000,50000,60000,70000,80000,90000" },
    phases: { type: "string", default: "opens,memory,ramp,fixed,storm" },
    "cpu-prof": { type: "string" },
  },
});
const PHASES = new Set(values.phases!.split(","));
if (PHASES.has("fixed") && !PHASES.has("ramp")) {
  console.error("bench:floor: the fixed phase runs at 60% of the ramp's best; add ramp to --phases");
  process.exit(2);
}
const PROFILE = values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`] : [];
const SESSIONS = Number(values.sessions);
const BASE = Math.min(SESSIONS, Number(values.base));
const STEP_SECONDS = Number(values["step-seconds"]);
const FIXED_SECONDS = Number(values["fixed-seconds"]);
const RATES = values.rates!.split(",").map(Number);
const HEARTBEAT_SECONDS = 0.1;
const IN_FLIGHT = 250;

type Memory = { rss: number; heapUsed: number; external: number; sessions: number };

/** One server under test and this process's sessions to it. */
interface Target {
  name: "floor" | "Ignis";
  server: HarnessServer;
  port: number;
  env: Record<string, string>;
  sessions: BenchSession[];
  clock: AckClock;
  results: Record<string, number>;
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const database = await scratchDatabase();
if (!database) {
  console.error(
    "bench:floor needs PostgreSQL (IGNIS_BENCH_DATABASE_URL or postgres://postgres@127.0.0.1:5432)",
  );
  process.exit(2);
}
log(`load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`);

const ignisPort = await freePort();
const ignisEnv = {
  IGNIS_PORT: String(ignisPort),
  IGNIS_PUBLIC_URL: `http://127.0.0.1:${ignisPort}`,
  IGNIS_DATA_DIR: mkdtempSync(join(tmpdir(), "ignis-bench-floor-")),
  IGNIS_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
  IGNIS_SECURITY_CONTAINMENT: "off",
  IGNIS_LOG_LEVEL: "error",
  IGNIS_CHALLENGE_MEAN_SECONDS: String(7 * 86_400),
  DATABASE_URL: database.url,
};
const floorPort = await freePort();
const floorEnv = { IGNIS_PORT: String(floorPort) };
const targets: Target[] = [
  {
    name: "floor",
    server: await startHarnessServer(floorEnv, ["--expose-gc"], "./_floor-server.ts"),
    port: floorPort,
    env: floorEnv,
    sessions: [],
    clock: new AckClock(),
    results: {},
  },
  {
    name: "Ignis",
    server: await startHarnessServer(ignisEnv, ["--expose-gc", ...PROFILE]),
    port: ignisPort,
    env: ignisEnv,
    sessions: [],
    clock: new AckClock(),
    results: {},
  },
];
const ignis = targets[1]!;

// Devices: a few enrolled over HTTP, the rest copies with keys of their own, all verified (_verified-fleet.ts).
const t = performance.now();
const supplierKey = await createSupplier(ignis.server.url, ignis.server.adminKey);
const devices: LeanDevice[] = await seedVerifiedFleet(
  database.url,
  await enrollLeanDevices(ignis.server.url, supplierKey, Math.min(SESSIONS, 20)),
  SESSIONS,
);
log(`enrolled and verified ${devices.length} devices in ${((performance.now() - t) / 1000).toFixed(1)} s`);

/**
 * Device `i` dials from one of 200 loopback addresses (127.0.1.0–127.0.1.199), so both servers see a fleet of
 * many addresses, ~25 devices behind each, and no per-address cap applies to the whole bench as one address.
 */
const sourceAddress = (i: number) => `127.0.1.${i % 200}`;

/** Opens sessions for `batch` with IN_FLIGHT handshakes at a time; returns opens per second. */
async function openAll(target: Target, batch: LeanDevice[], offset: number): Promise<number> {
  const url = `http://127.0.0.1:${target.port}`;
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < batch.length) {
      const i = next++;
      const s = new BenchSession(
        batch[i]!,
        (seq) => target.clock.acked(offset + i, seq),
        sourceAddress(offset + i),
      );
      await s.openWithRetry(url, performance.now() + 60_000);
      target.sessions[offset + i] = s;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return batch.length / ((performance.now() - started) / 1000);
}

/** Offers `rate` heartbeats a second over the target's sessions for `seconds`; returns how many were sent. */
async function offer(target: Target, rate: number, seconds: number, timed: boolean): Promise<number> {
  const sessions = target.sessions;
  const start = performance.now();
  let sent = 0;
  let cursor = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
    for (let i = 0; i < Math.min(due, 4000); i++) {
      const index = cursor++ % sessions.length;
      const { seq, ack } = sessions[index]!.beat();
      if (ack && timed) target.clock.sent(index, seq);
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  return sent;
}

/** Ignis closes sessions silent for a minute: a session silent for 20 s sends one heartbeat (any phase). */
let keepAlive = true;
const keepAliveTimer = setInterval(() => {
  const silentSince = performance.now() - 20_000;
  if (keepAlive) for (const s of ignis.sessions) if (s?.live && s.lastBeatMs < silentSince) s.beat();
}, 5_000);
const dropOnSignal = () => void database.drop().finally(() => process.exit(130));
process.once("SIGINT", dropOnSignal);
process.once("SIGTERM", dropOnSignal);

const memory = async (target: Target) => {
  // Every session heartbeats (once a second) for three seconds before the snapshot.
  await offer(target, target.sessions.length, 3, false);
  return target.server.ask<Memory>("memory");
};

for (const target of targets) {
  // Without the opens phase the sessions are still opened (later phases need them), just not reported.
  const cpu0 = (await target.server.ask<StatsReport>("stats")).cpuMicros;
  const opens1k = await openAll(target, devices.slice(0, BASE), 0);
  const cpu1 = (await target.server.ask<StatsReport>("stats")).cpuMicros;
  const before = PHASES.has("memory") ? await memory(target) : undefined;
  const cpu2 = (await target.server.ask<StatsReport>("stats")).cpuMicros;
  const opensRest = await openAll(target, devices.slice(BASE), BASE);
  const cpu3 = (await target.server.ask<StatsReport>("stats")).cpuMicros;
  if (PHASES.has("opens")) {
    target.results.opens1k = opens1k;
    target.results.opensRest = opensRest;
    target.results.cpuPerOpen = (cpu1 - cpu0 + cpu3 - cpu2) / SESSIONS;
    log(
      `${target.name}: opens/s ${opens1k.toFixed(0)} (first ${BASE}), ${opensRest.toFixed(0)} (next ${SESSIONS - BASE}); ${target.results.cpuPerOpen.toFixed(0)} µs server CPU per open`,
    );
  }
  if (before) {
    const after = await memory(target);
    const added = after.sessions - before.sessions;
    target.results.rssPerSession = (after.rss - before.rss) / added;
    target.results.heapPerSession =
      (after.heapUsed + after.external - before.heapUsed - before.external) / added;
    log(`${target.name}: RSS/session ${(target.results.rssPerSession / 1024).toFixed(1)} KB`);
  }
}

for (const target of targets) {
  if (!PHASES.has("ramp")) break;
  let best = 0;
  for (const rate of RATES) {
    await offer(target, rate, 1, false);
    const before = await target.server.ask<StatsReport>("stats");
    const t0 = performance.now();
    const sent = await offer(target, rate, STEP_SECONDS, false);
    const after = await target.server.ask<StatsReport>("stats");
    const elapsed = (performance.now() - t0) / 1000;
    const ingested = (after.heartbeats - before.heartbeats) / elapsed;
    const sentRate = sent / elapsed;
    log(
      `${target.name}: offered ${rate}/s, sent ${sentRate.toFixed(0)}/s, ingested ${ingested.toFixed(0)}/s`,
    );
    if (ingested < 0.95 * sentRate) break;
    best = Math.max(best, ingested);
  }
  target.results.best = best;
  // Let the backlog of the step it fell behind in drain before the next server's turn.
  await sleep(3000);
}

const fixedRate = Math.round(0.6 * (targets[0]!.results.best ?? 0));
/** This load process's own event-loop delay: its stalls show in every ack time it measures. */
const loadLoop = watchLoopDelay();
for (const target of targets) {
  if (!PHASES.has("fixed")) break;
  await offer(target, fixedRate, 1, false);
  await sleep(200);
  target.clock.reset();
  const before = await target.server.ask<StatsReport>("stats");
  loadLoop.take();
  await offer(target, fixedRate, FIXED_SECONDS, true);
  await sleep(500);
  const after = await target.server.ask<StatsReport>("stats");
  const load = loadLoop.take();
  // Both windows start at `before`: the server's delay over the timed offer, and this process's.
  target.results.loopP99 = after.loopP99Ms;
  target.results.loopMax = after.loopMaxMs;
  target.results.loadLoopP99 = load.loopP99Ms;
  target.results.loadLoopMax = load.loopMaxMs;
  const beats = Math.max(1, after.heartbeats - before.heartbeats);
  target.results.cpuPerBeat = (after.cpuMicros - before.cpuMicros) / beats;
  target.results.ackP50 = target.clock.histogram.getValueAtPercentile(50) / 1000;
  target.results.ackP99 = target.clock.histogram.getValueAtPercentile(99) / 1000;
  target.results.acksLost = target.clock.outstanding;
  log(
    `${target.name} at ${fixedRate}/s: ${target.results.cpuPerBeat.toFixed(1)} µs CPU per heartbeat, ack p99 ${target.results.ackP99.toFixed(1)} ms, ${target.clock.outstanding} acks missing; event-loop delay p99 / max: server ${after.loopP99Ms.toFixed(1)} / ${after.loopMaxMs.toFixed(1)} ms (busy ${(after.loopUtilization * 100).toFixed(0)}%), load ${load.loopP99Ms.toFixed(1)} / ${load.loopMaxMs.toFixed(1)} ms (busy ${(load.loopUtilization * 100).toFixed(0)}%)`,
  );
}

/** Resolves with the milliseconds until `port` accepts a TCP connection. */
async function untilAccepting(port: number, started: number): Promise<number> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return performance.now() - started;
    await sleep(10);
  }
}

/** Resolves with the milliseconds until `url` answers /healthz with 200 (ready, not merely accepting). */
async function untilReady(url: string, started: number): Promise<number> {
  for (;;) {
    const ok = await fetch(`${url}/healthz`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return performance.now() - started;
    await sleep(20);
  }
}

let restarted: ChildProcess | undefined;
for (const target of targets) {
  if (!PHASES.has("storm")) {
    keepAlive = false;
    for (const s of target.sessions) s.close();
    await target.server.stop();
    continue;
  }
  keepAlive = false;
  for (const s of target.sessions) s.close();
  await target.server.stop();
  const started = performance.now();
  const child =
    target === ignis
      ? spawn(
          process.execPath,
          [...PROFILE, new URL("../apps/server/bin/ignis-server.js", import.meta.url).pathname],
          {
            env: { ...process.env, ...target.env, IGNIS_HOST: "127.0.0.1", IGNIS_LOG_LEVEL: "error" },
            stdio: ["ignore", "inherit", "inherit"],
          },
        )
      : spawn(
          process.execPath,
          ["--import", "tsx", new URL("./_floor-server.ts", import.meta.url).pathname],
          {
            env: { ...process.env, ...target.env },
            stdio: ["ignore", "inherit", "inherit"],
          },
        );
  target.results.acceptMs = await untilAccepting(target.port, started);
  const url = `http://127.0.0.1:${target.port}`;
  // Devices dial as soon as the port answers (a starting Ignis tells them to come back); re-auths per second
  // are counted from the moment the server is ready (/healthz 200; the floor is ready when it accepts).
  const ready = target === ignis ? untilReady(url, started) : Promise.resolve(target.results.acceptMs);
  const refusals = new Map<string, number>();
  const doneAtMs: number[] = [];
  const attempts = await Promise.all(
    target.sessions.map((s) =>
      s.openWithRetry(url, performance.now() + 300_000, refusals).then((n) => {
        doneAtMs.push(performance.now() - started);
        return n;
      }),
    ),
  );
  target.results.readyMs = await ready;
  // When devices were live (from spawn), and why tries failed: a storm's length is its slowest device's.
  doneAtMs.sort((a, b) => a - b);
  const at = (q: number) =>
    (doneAtMs[Math.min(doneAtMs.length - 1, Math.floor(q * doneAtMs.length))]! / 1000).toFixed(1);
  log(
    `${target.name}: devices live after spawn p50 ${at(0.5)} s, p90 ${at(0.9)} s, p99 ${at(0.99)} s, last ${at(1)} s; failed tries: ${
      [...refusals].map(([why, n]) => `${n} × ${why}`).join(", ") || "none"
    }`,
  );
  const stormSeconds = (doneAtMs[doneAtMs.length - 1]! - doneAtMs[0]!) / 1000;
  target.results.reauths = target.sessions.length / stormSeconds;
  target.results.allLiveMs = doneAtMs[doneAtMs.length - 1]!;
  target.results.attempts = attempts.reduce((a, b) => a + b, 0) / attempts.length;
  log(
    `${target.name}: accepted TCP ${target.results.acceptMs.toFixed(0)} ms after spawn, ready ${target.results.readyMs.toFixed(0)} ms; storm of ${target.sessions.length} in ${stormSeconds.toFixed(1)} s from the first hello (${target.results.reauths.toFixed(0)} re-auths/s, ${target.results.attempts.toFixed(2)} tries each)`,
  );
  for (const s of target.sessions) s.close();
  if (target === ignis) restarted = child;
  else child.kill("SIGTERM");
}
clearInterval(keepAliveTimer);
if (restarted) {
  await new Promise((resolve) => {
    restarted!.once("exit", resolve);
    restarted!.kill("SIGTERM");
  });
}
await database.drop();

const [floor] = targets;
const f = floor!.results;
const g = ignis.results;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
console.log(
  `\nload average at the end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${cpus().length} cores; ${SESSIONS} sessions, heartbeat interval ${HEARTBEAT_SECONDS} s`,
);
console.log("| figure | floor | Ignis | Ignis / floor | goal |");
console.log("|---|---:|---:|---:|---|");
const row = (figure: string, a: string, b: string, r: string, goal: string) =>
  console.log(`| ${figure} | ${a} | ${b} | ${r} | ${goal} |`);
if (PHASES.has("ramp"))
  row(
    "heartbeats ingested before falling behind",
    `${f.best!.toFixed(0)}/s`,
    `${g.best!.toFixed(0)}/s`,
    ratio(g.best!, f.best!),
    "≥ 0.8×",
  );
if (PHASES.has("fixed"))
  row(
    `server CPU per heartbeat at ${fixedRate}/s`,
    `${f.cpuPerBeat!.toFixed(1)} µs`,
    `${g.cpuPerBeat!.toFixed(1)} µs`,
    ratio(g.cpuPerBeat!, f.cpuPerBeat!),
    "≤ 1.25×",
  );
if (PHASES.has("fixed"))
  row(
    `heartbeat ack p50 / p99 at ${fixedRate}/s (acks missing)`,
    `${f.ackP50!.toFixed(1)} / ${f.ackP99!.toFixed(1)} ms (${f.acksLost})`,
    `${g.ackP50!.toFixed(1)} / ${g.ackP99!.toFixed(1)} ms (${g.acksLost})`,
    ratio(g.ackP99!, f.ackP99!),
    "p99 ≤ 50 ms",
  );
if (PHASES.has("fixed"))
  row(
    `event-loop delay p99 / max at ${fixedRate}/s: server (load process)`,
    `${f.loopP99!.toFixed(0)} / ${f.loopMax!.toFixed(0)} ms (${f.loadLoopP99!.toFixed(0)} / ${f.loadLoopMax!.toFixed(0)})`,
    `${g.loopP99!.toFixed(0)} / ${g.loopMax!.toFixed(0)} ms (${g.loadLoopP99!.toFixed(0)} / ${g.loadLoopMax!.toFixed(0)})`,
    ratio(g.loopP99!, f.loopP99!),
    "",
  );
if (PHASES.has("memory"))
  row(
    `RSS per heartbeating session, ${BASE} → ${SESSIONS}`,
    kb(f.rssPerSession!),
    kb(g.rssPerSession!),
    ratio(g.rssPerSession!, f.rssPerSession!),
    "≤ 2×",
  );
if (PHASES.has("memory"))
  row(
    `heap + external per session, ${BASE} → ${SESSIONS}`,
    kb(f.heapPerSession!),
    kb(g.heapPerSession!),
    ratio(g.heapPerSession!, f.heapPerSession!),
    "",
  );
if (PHASES.has("opens"))
  row(
    `sessions opened per second (first ${BASE} / next ${SESSIONS - BASE})`,
    `${f.opens1k!.toFixed(0)} / ${f.opensRest!.toFixed(0)}`,
    `${g.opens1k!.toFixed(0)} / ${g.opensRest!.toFixed(0)}`,
    ratio(g.opens1k!, f.opens1k!),
    "≥ 2,000/s",
  );
if (PHASES.has("opens"))
  row(
    "server CPU per session open",
    `${f.cpuPerOpen!.toFixed(0)} µs`,
    `${g.cpuPerOpen!.toFixed(0)} µs`,
    ratio(g.cpuPerOpen!, f.cpuPerOpen!),
    "",
  );
if (PHASES.has("storm"))
  row(
    `reconnect storm after a restart, ${SESSIONS} devices (tries per device)`,
    `${f.reauths!.toFixed(0)}/s (${f.attempts!.toFixed(2)})`,
    `${g.reauths!.toFixed(0)}/s (${g.attempts!.toFixed(2)})`,
    ratio(g.reauths!, f.reauths!),
    "≥ 2,000/s",
  );
if (PHASES.has("storm"))
  row(
    "restart: spawn → accepting TCP",
    `${f.acceptMs!.toFixed(0)} ms`,
    `${g.acceptMs!.toFixed(0)} ms`,
    ratio(g.acceptMs!, f.acceptMs!),
    "≤ 2 s",
  );
if (PHASES.has("storm"))
  row(
    `restart: spawn → all ${SESSIONS} devices live`,
    `${(f.allLiveMs! / 1000).toFixed(1)} s`,
    `${(g.allLiveMs! / 1000).toFixed(1)} s`,
    ratio(g.allLiveMs!, f.allLiveMs!),
    "",
  );
if (PHASES.has("storm"))
  row(
    "restart: spawn → ready (/healthz 200)",
    `${f.readyMs!.toFixed(0)} ms`,
    `${g.readyMs!.toFixed(0)} ms`,
    ratio(g.readyMs!, f.readyMs!),
    "",
  );
process.exit(0);
