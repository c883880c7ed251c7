/**
 * Epoch close at scale on PostgreSQL: 600,000 devices (IGNIS_BENCH_DEVICES to change) with one epoch of
 * generated uptime in a scratch database, closed once, root included; prints the wall time of each stage and
 * the process's peak RSS, then checks the root against a recompute from stored uptime.
 *
 *   npx tsx bench/epoch-close.ts            # creates ignis_bench_rewards on 127.0.0.1:5432 and keeps it
 *   npx tsx bench/proof-lookup.ts           # then measures proof lookups against the same database
 */
import { cpus } from "node:os";
import pg from "pg";
import { openDatabase } from "../apps/server/src/db/database.js";
import { migrateToLatest } from "../apps/server/src/db/migrate.js";
import { closeEpoch } from "../apps/server/src/rewards/epoch-close.js";
import { recomputeEpoch } from "../apps/server/src/rewards/epoch-recompute.js";
import { seedRewardBench } from "../apps/server/src/rewards/reward-bench-seed.js";

const ADMIN_URL = process.env.IGNIS_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const DB_NAME = "ignis_bench_rewards";
const DEVICES = Number(process.env.IGNIS_BENCH_DEVICES ?? 600_000);
const EPOCH_SECONDS = 3600;
const EPOCH = 490_000;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

async function recreateDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${DB_NAME} with (force)`);
  await admin.query(`create database ${DB_NAME}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
}

const url = await recreateDatabase();
const database = await openDatabase({ databaseUrl: url, poolSize: 4 });
await migrateToLatest(database.db);
let t = performance.now();
const network = await seedRewardBench(database.db, {
  devices: DEVICES,
  epoch: EPOCH,
  epochSeconds: EPOCH_SECONDS,
});
console.log(
  `seeded ${network.devices} devices of ${network.owners} suppliers in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);

global.gc?.();
const rssBefore = process.memoryUsage().rss;
const marks: [string, number][] = [];
t = performance.now();
const closed = await closeEpoch(database.db, {
  epoch: EPOCH,
  epochSeconds: EPOCH_SECONDS,
  afterStage: (stage) => {
    marks.push([stage, performance.now()]);
  },
});
const seconds = (performance.now() - t) / 1000;
const peak = process.resourceUsage().maxRSS * 1024;
if (!closed) throw new Error("nothing closed");

let previous = t;
for (const [stage, at] of marks) {
  console.log(`  until ${stage.padEnd(8)} ${((at - previous) / 1000).toFixed(2)} s`);
  previous = at;
}
console.log(`  commit         ${((t + seconds * 1000 - previous) / 1000).toFixed(2)} s`);
t = performance.now();
const check = await recomputeEpoch(database.db, EPOCH, EPOCH_SECONDS);
console.log(
  `recompute from stored uptime: ${check.matches ? "same root" : "MISMATCH"} in ${((performance.now() - t) / 1000).toFixed(1)} s`,
);
await database.close();

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, PostgreSQL at ${new URL(ADMIN_URL).host}`,
);
console.log(
  `epoch close: ${closed.devices} paid devices of ${DEVICES}, total ${closed.total} micro-units, root ${closed.root}`,
);
console.log(`epoch close for ${DEVICES} devices: ${seconds.toFixed(2)} s (target ≤ 10 s)`);
console.log(`peak RSS ${mib(peak)} (RSS before the close ${mib(rssBefore)})`);
process.exitCode = check.matches ? 0 : 1;
