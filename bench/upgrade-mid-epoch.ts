/**
 * A server upgrade in the middle of a reward epoch, with a fleet of workers that have not updated: does any
 * device lose an up-minute, and is every device paid for that epoch?
 *
 *   npm run bench:upgrade [-- --devices 1000 --epoch-seconds 180 --window-seconds 120]
 *
 * PostgreSQL is required (a scratch database, dropped at the end). The real `ignis-server` binary runs with a
 * short epoch (`IGNIS_EPOCH_SECONDS`, 60 slots each) and a heartbeat every half slot. Devices are a verified
 * fleet (bench/_verified-fleet.ts) and speak the previous protocol, v1 (N-1: no protocol range, no worker
 * version; bench/_session-client.ts), from 200 loopback addresses, many sessions in this one process. Steps, as
 * an operator upgrading a live network does them (docs/worker-sessions.md "Versions and upgrades"):
 *
 * 1. The old server runs; every device connects and heartbeats.
 * 2. Once a whole epoch E has begun with every device connected, at 30% of E the operator declares a
 *    maintenance window from now for `--window-seconds` (grace one minute, docs/rewards.md), long enough for
 *    the restart and the reconnects on this machine, then stops the server (SIGTERM: sessions are closed with
 *    1001, up-minutes flushed).
 * 3. The new server starts on the same database and data dir, with `IGNIS_MIN_WORKER_VERSION` set to the
 *    current release: the v1 workers are now `outdated` and keep earning through the grace period. Devices
 *    reconnect as the worker does: backoff with full jitter (0.5 s doubling to 30 s), never sooner than the
 *    server's `Retry-After` on a 503.
 * 4. At E's close the bench reads the stored uptime and rewards: lost minutes = Σ over devices of
 *    (60 − up-minutes, measured | credited) in E; paid = devices with a reward row in E. It also prints the
 *    slots the devices really missed during the switch (measured only), which the window's credit covers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { Backoff } from "../apps/cli/src/worker/backoff.js";
import { WORKER_RELEASE } from "../apps/cli/src/worker/worker-release.js";
import { ADMIN_KEY_FILE } from "../apps/server/src/identity/bootstrap-admin.js";
import { epochAt, epochEndMs, epochStartMs } from "../apps/server/src/rewards/epoch-clock.js";
import { freePort } from "../apps/server/src/testing/test-server.js";
import { createSupplier, enrollLeanDevices, scratchDatabase } from "./_heartbeat-load.js";
import { BenchSession, OpenRefused } from "./_session-client.js";
import { seedVerifiedFleet } from "./_verified-fleet.js";

const { values } = parseArgs({
  options: {
    devices: { type: "string", default: "1000" },
    "epoch-seconds": { type: "string", default: "180" },
    "window-seconds": { type: "string", default: "120" },
  },
});
const DEVICES = Number(values.devices);
const EPOCH_SECONDS = Number(values["epoch-seconds"]);
const WINDOW_SECONDS = Number(values["window-seconds"]);
const SLOT_SECONDS = EPOCH_SECONDS / 60;
const HEARTBEAT_SECONDS = SLOT_SECONDS / 2;
/** Heartbeats go out in this many ticks per interval, a tenth of the fleet each. */
const TICKS = 10;
const IN_FLIGHT = 250;

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

const database = await scratchDatabase();
if (!database) {
  console.error(
    "bench:upgrade needs PostgreSQL (IGNIS_BENCH_DATABASE_URL or postgres://postgres@127.0.0.1:5432)",
  );
  process.exit(2);
}
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), "ignis-bench-upgrade-"));
const oldEnv = {
  IGNIS_PORT: String(port),
  IGNIS_HOST: "127.0.0.1",
  IGNIS_PUBLIC_URL: url,
  IGNIS_DATA_DIR: dataDir,
  DATABASE_URL: database.url,
  IGNIS_EPOCH_SECONDS: String(EPOCH_SECONDS),
  IGNIS_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
  IGNIS_SECURITY_CONTAINMENT: "off",
  IGNIS_CHALLENGE_MEAN_SECONDS: String(7 * 86_400),
  IGNIS_LOG_LEVEL: "error",
};
const newEnv = {
  ...oldEnv,
  IGNIS_MIN_WORKER_VERSION: WORKER_RELEASE,
  IGNIS_OUTDATED_GRACE_SECONDS: String(7 * 86_400),
};

let server: ChildProcess | undefined;
const stopServer = async () => {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null) return;
  await new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });
};
const cleanUp = async () => {
  await stopServer();
  await database.drop();
};
process.once("SIGINT", () => void cleanUp().finally(() => process.exit(130)));
process.once("SIGTERM", () => void cleanUp().finally(() => process.exit(143)));

/** Spawns the real ignis-server binary; resolves once it answers /healthz. */
async function startServer(env: Record<string, string>): Promise<void> {
  server = spawn(
    process.execPath,
    [new URL("../apps/server/bin/ignis-server.js", import.meta.url).pathname],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  const child = server;
  for (const until = performance.now() + 120_000; performance.now() < until; ) {
    if (child.exitCode !== null) throw new Error(`ignis-server exited during start (${child.exitCode})`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(20);
  }
  throw new Error("ignis-server did not answer /healthz within 120 s");
}

log(
  `${DEVICES} devices on worker protocol v1, epochs of ${EPOCH_SECONDS} s (slots of ${SLOT_SECONDS} s, heartbeat every ${HEARTBEAT_SECONDS} s); load average ${load()} on ${cpus().length} cores`,
);
await startServer(oldEnv);
const adminKey = readFileSync(join(dataDir, ADMIN_KEY_FILE), "utf8").trim();
const supplierKey = await createSupplier(url, adminKey);
const devices = await seedVerifiedFleet(
  database.url,
  await enrollLeanDevices(url, supplierKey, Math.min(DEVICES, 5)),
  DEVICES,
);
log(`old server up; ${devices.length} verified devices`);

/** Device `i` dials from one of 200 loopback addresses, ~50 devices behind each at 10,000. */
const sourceAddress = (i: number) => `127.0.1.${i % 200}`;
const sessions = devices.map((d, i) => new BenchSession(d, undefined, sourceAddress(i)));
let drops = 0;
let lastLiveAt = 0;
/**
 * Reconnects a dropped device the way the worker does: exponential backoff with full jitter (0.5 s doubling to
 * 30 s, apps/cli/src/worker/backoff.ts), never sooner than the server asked (`Retry-After`, `retryAfterMs`).
 */
const reconnect = (s: BenchSession, retryAfterMs: number) => {
  drops++;
  void (async () => {
    const backoff = new Backoff();
    let wait = Math.max(retryAfterMs, backoff.next());
    for (;;) {
      await sleep(wait);
      try {
        await s.open(url);
        lastLiveAt = performance.now();
        return;
      } catch (error) {
        wait = Math.max(error instanceof OpenRefused ? error.retryAfterMs : 0, backoff.next());
      }
    }
  })();
};
for (const s of sessions) s.onDrop = (retryAfterMs) => reconnect(s, retryAfterMs);

let tick = 0;
const beats = setInterval(
  () => {
    const slice = tick++ % TICKS;
    for (let i = slice; i < sessions.length; i += TICKS) if (sessions[i]!.live) sessions[i]!.beat();
  },
  (HEARTBEAT_SECONDS * 1000) / TICKS,
);

let t = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: IN_FLIGHT }, async () => {
    while (next < sessions.length) await sessions[next++]!.openWithRetry(url, performance.now() + 300_000);
  }),
);
log(`opened ${sessions.length} sessions in ${((performance.now() - t) / 1000).toFixed(1)} s`);

// E: the first epoch that begins with every device connected and heartbeating for a few slots already.
const epoch = epochAt(Date.now() + 3 * SLOT_SECONDS * 1000, EPOCH_SECONDS) + 1;
const startsAt = epochStartMs(epoch, EPOCH_SECONDS);
const endsAt = epochEndMs(epoch, EPOCH_SECONDS);
log(`measured epoch ${epoch} starts in ${((startsAt - Date.now()) / 1000).toFixed(0)} s`);
await sleep(startsAt + 0.3 * EPOCH_SECONDS * 1000 - Date.now());

const windowStart = new Date();
const res = await fetch(`${url}/v1/admin/maintenance-windows`, {
  method: "POST",
  headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
  body: JSON.stringify({
    start: windowStart.toISOString(),
    end: new Date(windowStart.getTime() + WINDOW_SECONDS * 1000).toISOString(),
    graceMinutes: 1,
    reason: `ignis-server upgrade (workers below ${WORKER_RELEASE} become outdated)`,
  }),
});
if (res.status !== 201) throw new Error(`maintenance window refused: ${res.status} ${await res.text()}`);
const liveBefore = sessions.filter((s) => s.live).length;
log(`maintenance window declared for ${WINDOW_SECONDS} s; ${liveBefore} live; stopping the old server`);
t = performance.now();
await stopServer();
const stoppedMs = performance.now() - t;
const spawnedAt = performance.now();
await startServer(newEnv);
const acceptedAt = performance.now();
log(
  `old server stopped in ${(stoppedMs / 1000).toFixed(1)} s; new server answering after ${((acceptedAt - spawnedAt) / 1000).toFixed(1)} s`,
);
for (const until = performance.now() + 600_000; sessions.some((s) => !s.live) && performance.now() < until; )
  await sleep(50);
const live = sessions.filter((s) => s.live).length;
const reconnectAllSeconds = (lastLiveAt - t) / 1000;
const reconnectFromAcceptSeconds = (lastLiveAt - acceptedAt) / 1000;
log(
  `${live} of ${sessions.length} live again: ${reconnectAllSeconds.toFixed(1)} s after the stop, ${reconnectFromAcceptSeconds.toFixed(1)} s after the new server answered; load average ${load()}`,
);

const db = new pg.Client({ connectionString: database.url });
await db.connect();
const closeBy = Math.max(endsAt, windowStart.getTime() + WINDOW_SECONDS * 1000 + 60_000) + 120_000;
log(`waiting for epoch ${epoch} to close (ends in ${((endsAt - Date.now()) / 1000).toFixed(0)} s)`);
let closed = false;
while (!closed && Date.now() < closeBy) {
  await sleep(1000);
  closed = (await db.query("select 1 from reward_epochs where epoch = $1", [epoch])).rowCount === 1;
}
clearInterval(beats);
if (!closed) throw new Error(`epoch ${epoch} did not close within 2 minutes of its end`);

const { rows } = await db.query<{
  devices: string;
  lost: string;
  measured_gaps: string;
  gap_devices: string;
  paid: string;
  outdated: string;
}>(
  `select count(*) as devices,
     coalesce(sum(60 - bit_count((coalesce(u.minute_mask, 0) | coalesce(u.credited_mask, 0))::bit(64))), 0) as lost,
     coalesce(sum(60 - bit_count(coalesce(u.minute_mask, 0)::bit(64))), 0) as measured_gaps,
     count(*) filter (where bit_count(coalesce(u.minute_mask, 0)::bit(64)) < 60) as gap_devices,
     count(r.device_id) filter (where r.amount > 0) as paid,
     count(*) filter (where d.outdated_since is not null) as outdated
   from devices d
   left join uptime u on u.device_id = d.id and u.epoch = $1
   left join rewards r on r.device_id = d.id and r.epoch = $1`,
  [epoch],
);
const r = rows[0]!;
// Where lost slots are, if any: slot index in the epoch → devices that lost it (the window is credited).
const lostBySlot = await db.query<{ slot: number; devices: string }>(
  `select s as slot, count(*) as devices
   from devices d
   left join uptime u on u.device_id = d.id and u.epoch = $1
   cross join generate_series(0, 59) as s
   where ((coalesce(u.minute_mask, 0) | coalesce(u.credited_mask, 0)) >> s) & 1 = 0
   group by s order by s`,
  [epoch],
);
const slotOf = (ms: number) => Math.floor((ms - startsAt) / (SLOT_SECONDS * 1000));
const firstSwitchSlot = slotOf(windowStart.getTime());
const windowSlots = `${firstSwitchSlot}–${slotOf(windowStart.getTime() + WINDOW_SECONDS * 1000)}`;
// Slots lost before the window were lost with the old server in steady state (no upgrade involved yet): on an
// overloaded machine a stall longer than a heartbeat interval costs a slot there, and the bench says so apart.
const lostBefore = lostBySlot.rows
  .filter((l) => l.slot < firstSwitchSlot)
  .reduce((sum, l) => sum + Number(l.devices), 0);
const lostFromSwitch = Number(r.lost) - lostBefore;
await db.end();
for (const s of sessions) s.close();
await cleanUp();

console.log(`\nload average at the end: ${load()} on ${cpus().length} cores`);
console.log("| figure | value |");
console.log("|---|---:|");
console.log(`| devices (worker protocol v1, N-1) | ${r.devices} |`);
console.log(`| epoch / slot / heartbeat | ${EPOCH_SECONDS} s / ${SLOT_SECONDS} s / ${HEARTBEAT_SECONDS} s |`);
console.log(`| lost up-minutes in epoch ${epoch} (must be 0) | ${r.lost} |`);
console.log(
  `| … of which from the switch on (window start to epoch end) / before it (old server, steady state) | ${lostFromSwitch} / ${lostBefore} |`,
);
console.log(`| devices paid / devices | ${r.paid} / ${r.devices} |`);
console.log(`| devices outdated under the new server (still paid) | ${r.outdated} |`);
console.log(
  `| slots missed during the switch (measured), credited by the window | ${r.measured_gaps} over ${r.gap_devices} devices |`,
);
console.log(`| old server stop (SIGTERM → exit) | ${(stoppedMs / 1000).toFixed(1)} s |`);
console.log(`| new server spawn → answering | ${((acceptedAt - spawnedAt) / 1000).toFixed(1)} s |`);
console.log(
  `| reconnect all: from the stop / from the new server answering | ${reconnectAllSeconds.toFixed(1)} s / ${reconnectFromAcceptSeconds.toFixed(1)} s |`,
);
console.log(`| session drops (the restart's ${liveBefore} included) | ${drops} |`);
console.log(
  `| lost slots by slot index (window: slots ${windowSlots}) | ${lostBySlot.rows.map((l) => `${l.slot}: ${l.devices}`).join(", ") || "none"} |`,
);
const ok = Number(r.lost) === 0 && Number(r.paid) === Number(r.devices) && live === sessions.length;
console.log(ok ? "\nPASS: no up-minute lost, every device paid" : "\nFAIL");
process.exit(ok ? 0 : 1);
