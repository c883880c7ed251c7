/**
 * Memory per open device session, and the time from enrollment to `online`, on one server process driven by
 * this (separate) load process.
 *
 *   npx tsx bench/session-memory.ts [--sessions 2000] [--enrollments 20]
 *
 * Memory: the server (bench/_heartbeat-server.ts with --expose-gc, scratch PostgreSQL when reachable) is
 * measured after a full GC with half of `--sessions` lean sessions open and heartbeating every second (proof
 * challenges answered), then with all of them. Per session = the growth / the sessions added, for the JS heap
 * plus external memory and for the resident set.
 * Enroll → online: `--enrollments` devices, one after the other, with the real worker agent (key generation,
 * hardware claim, enrollment, signed session) until `GET /v1/devices/{id}` says `online`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { enrollDevice } from "../apps/cli/src/worker/enroll.js";
import { startWorker } from "../apps/cli/src/worker/worker-agent.js";
import {
  createSupplier,
  enrollLeanDevices,
  type LeanSession,
  openLeanSessions,
  scratchDatabase,
  startHarnessServer,
} from "./_heartbeat-load.js";

const { values } = parseArgs({
  options: {
    sessions: { type: "string", default: "2000" },
    enrollments: { type: "string", default: "20" },
  },
});
const SESSIONS = Number(values.sessions);
const ENROLLMENTS = Number(values.enrollments);

type Memory = { rss: number; heapUsed: number; external: number; arrayBuffers: number; sessions: number };

const database = await scratchDatabase();
const server = await startHarnessServer(
  {
    IGNIS_HEARTBEAT_SECONDS: "1",
    IGNIS_SECURITY_CONTAINMENT: "off",
    ...(database ? { DATABASE_URL: database.url } : {}),
  },
  ["--expose-gc"],
);
const supplierKey = await createSupplier(server.url, server.adminKey);

// Enroll → online, with the real agent.
const durations: number[] = [];
for (let i = 0; i < ENROLLMENTS; i++) {
  const stateDir = mkdtempSync(join(tmpdir(), "ignis-bench-worker-"));
  const codeRes = await fetch(`${server.url}/v1/enrollment-codes`, {
    method: "POST",
    headers: { authorization: `Bearer ${supplierKey}` },
  });
  const { code } = (await codeRes.json()) as { code: string };
  const t0 = performance.now();
  const { deviceId } = await enrollDevice({ server: server.url, code, stateDir, profile: "sim-a100" });
  const worker = startWorker({ stateDir });
  for (;;) {
    const res = await fetch(`${server.url}/v1/devices/${deviceId}`, {
      headers: { authorization: `Bearer ${supplierKey}` },
    });
    if (((await res.json()) as { status: string }).status === "online") break;
    await new Promise((r) => setTimeout(r, 5));
  }
  durations.push(performance.now() - t0);
  await worker.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
durations.sort((a, b) => a - b);
const at = (q: number) =>
  durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]!.toFixed(0);

// Memory per session: the growth from half the sessions to all of them (both warm, after a full GC), so that
// start-up and enrollment transients cancel out.
const devices = await enrollLeanDevices(server.url, supplierKey, SESSIONS);
const sessions: LeanSession[] = [];
const open = async (batch: typeof devices) => {
  sessions.push(...(await openLeanSessions(batch, () => server.url)));
};
const beating = setInterval(() => {
  for (const s of sessions) s.beat(false);
}, 1000);
const half = Math.floor(SESSIONS / 2);
await open(devices.slice(0, half));
await new Promise((r) => setTimeout(r, 4000));
const before = await server.ask<Memory>("memory");
await open(devices.slice(half));
await new Promise((r) => setTimeout(r, 4000));
const after = await server.ask<Memory>("memory");
clearInterval(beating);
for (const s of sessions) s.close();
await server.stop();
await database?.drop();
const added = after.sessions - before.sessions;

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const js = (m: Memory) => m.heapUsed + m.external;
console.log(`server database: ${database ? "PostgreSQL (scratch database)" : "PGlite"}`);
console.log(
  `load average at the end: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${cpus().length} cores`,
);
console.log("| figure | value |");
console.log("|---|---:|");
console.log(
  `| enroll → online, p50 / p95 / max (${ENROLLMENTS} devices) | ${at(0.5)} / ${at(0.95)} / ${at(1)} ms |`,
);
console.log(`| open sessions | ${after.sessions} |`);
console.log(`| heap + external per session | ${kb((js(after) - js(before)) / added)} KB |`);
console.log(`| resident set per session | ${kb((after.rss - before.rss) / added)} KB |`);
process.exit(0);
