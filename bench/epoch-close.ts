/**
 * Epoch close at scale on PostgreSQL: 600,000 devices (IGNIS_BENCH_DEVICES to change) with one epoch of
 * generated uptime in a scratch database, closed once, root included. Prints each stage's wall time and the CPU
 * time of this process and of the PostgreSQL backend doing the work (wall time on a busy shared machine says
 * little; the CPU sum is what the close costs), the peak RSS, and checks the root against a recompute.
 *
 *   npx tsx bench/epoch-close.ts           # seeds ignis_bench_rewards on 127.0.0.1:5432 (kept), closes one epoch
 *   npx tsx bench/epoch-close.ts           # again: reuses the devices, seeds and closes the next epoch
 *   npx tsx bench/epoch-close.ts --fresh   # drops and reseeds the scratch database first
 *   npx tsx bench/proof-lookup.ts          # then proof lookups against the latest closed epoch
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { sql } from "kysely";
import pg from "pg";
import { openDatabase } from "../apps/server/src/db/database.js";
import { migrateToLatest } from "../apps/server/src/db/migrate.js";
import { closeEpoch } from "../apps/server/src/rewards/epoch-close.js";
import { recomputeEpoch } from "../apps/server/src/rewards/epoch-recompute.js";
import { seedRewardEpoch, seedRewardNetwork } from "../apps/server/src/rewards/reward-bench-seed.js";

const ADMIN_URL = process.env.IGNIS_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const DEVICES = Number(process.env.IGNIS_BENCH_DEVICES ?? 600_000);
const DB_NAME = DEVICES === 600_000 ? "ignis_bench_rewards" : `ignis_bench_rewards_${DEVICES}`;
const EPOCH_SECONDS = 3600;
const FIRST_EPOCH = 490_000;
const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function scratchDatabase(fresh: boolean): Promise<string> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  if (fresh) await admin.query(`drop database if exists ${DB_NAME} with (force)`);
  const exists = await admin.query("select 1 from pg_database where datname = $1", [DB_NAME]);
  if (exists.rowCount === 0) await admin.query(`create database ${DB_NAME}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
}

/** CPU seconds a local process has used (PostgreSQL backends run on this machine). */
function processCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

const nodeCpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

// One connection: the close's transaction runs on the backend whose CPU time is read.
const database = await openDatabase({
  databaseUrl: await scratchDatabase(process.argv.includes("--fresh")),
  poolSize: 1,
});
const db = database.db;
await migrateToLatest(db);
const count = await sql<{ n: number }>`select count(*)::int as n from devices`.execute(db);
if (count.rows[0]!.n !== DEVICES) {
  if (count.rows[0]!.n !== 0) throw new Error(`${DB_NAME} holds another size; rerun with --fresh`);
  const t = performance.now();
  const seeded = await seedRewardNetwork(db, DEVICES);
  console.log(
    `seeded ${seeded.devices} devices of ${seeded.owners} suppliers in ${seconds(performance.now() - t)}`,
  );
}
const last = await sql<{ e: string | null }>`select max(epoch)::text as e from reward_epochs`.execute(db);
const epoch = last.rows[0]!.e === null ? FIRST_EPOCH : Number(last.rows[0]!.e) + 1;
await seedRewardEpoch(db, epoch, EPOCH_SECONDS);
const backend = Number((await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid);

global.gc?.();
const rssBefore = process.memoryUsage().rss;
const marks: { stage: string; at: number; node: number; pg: number }[] = [];
const mark = (stage: string) =>
  marks.push({ stage, at: performance.now(), node: nodeCpu(), pg: processCpu(backend) });
mark("start");
const closed = await closeEpoch(db, {
  epoch,
  epochSeconds: EPOCH_SECONDS,
  afterStage: (stage) => {
    mark(stage);
  },
});
mark("commit");
const peak = process.resourceUsage().maxRSS * 1024;
if (!closed) throw new Error("nothing closed");
for (let i = 1; i < marks.length; i++) {
  const [a, b] = [marks[i - 1]!, marks[i]!];
  console.log(
    `  ${b.stage.padEnd(8)} ${seconds(b.at - a.at).padStart(8)} wall  CPU: node ${(b.node - a.node).toFixed(2)} s, ` +
      `postgres ${(b.pg - a.pg).toFixed(2)} s`,
  );
}
const [first, end] = [marks[0]!, marks.at(-1)!];
const cpuNode = end.node - first.node;
const cpuPg = end.pg - first.pg;

const t = performance.now();
const check = await recomputeEpoch(db, epoch, EPOCH_SECONDS);
console.log(
  `recompute from stored uptime: ${check.matches ? "same root" : "MISMATCH"} in ${seconds(performance.now() - t)}`,
);
await database.close();

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model}, Node ${process.version}, PostgreSQL at ${new URL(ADMIN_URL).host}`,
);
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} (other work shares the machine)`,
);
console.log(
  `epoch ${epoch}: ${closed.devices} paid devices of ${DEVICES}, total ${closed.total}, root ${closed.root}`,
);
console.log(`peak RSS ${mib(peak)} (${mib(rssBefore)} before the close)`);
console.log(
  `epoch close for ${DEVICES} devices: ${seconds(end.at - first.at)} wall; CPU ${(cpuNode + cpuPg).toFixed(2)} s ` +
    `(node ${cpuNode.toFixed(2)} s + postgres ${cpuPg.toFixed(2)} s) (target ≤ 10 s)`,
);
process.exitCode = check.matches ? 0 : 1;
