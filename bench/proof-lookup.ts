/**
 * Proof lookup latency for one device, on the database bench/epoch-close.ts left behind (600,000 devices):
 * 2,000 lookups of random paid devices through the domain function (queries + page walk + the
 * StandardMerkleTree.verify check) and 2,000 more over HTTP against a real server. Prints p50/p95/p99.
 *
 *   npx tsx bench/epoch-close.ts && npx tsx bench/proof-lookup.ts
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { loadConfig } from "../apps/server/src/config.js";
import { openDatabase } from "../apps/server/src/db/database.js";
import { getRewardProof } from "../apps/server/src/rewards/reward-views.js";
import { createServer } from "../apps/server/src/server.js";
import { freePort } from "../apps/server/src/testing/test-server.js";

const ADMIN_URL = process.env.IGNIS_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const LOOKUPS = 2_000;
const url = new URL(ADMIN_URL);
url.pathname = "/ignis_bench_rewards";

function percentiles(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)!.toFixed(2)} ms`;
}

const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 4 }).catch(() => undefined);
const latest = database
  ? await sql<{
      epoch: string;
      devices: number;
    }>`select epoch::text, devices from reward_epochs order by epoch desc limit 1`
      .execute(database.db)
      .catch(() => undefined)
  : undefined;
const row = latest?.rows[0];
if (!database || !row) {
  console.log("no closed bench epoch: run `npx tsx bench/epoch-close.ts` first");
  process.exit(1);
}
const epoch = Number(row.epoch);
const { rows: picked } = await sql<{ device_id: string }>`select device_id from rewards where epoch = ${epoch}
  order by md5(device_id) limit ${LOOKUPS}`.execute(database.db);
const timing = { epochSeconds: 3600, finalizationSeconds: 30 };
for (const { device_id } of picked.slice(0, 100))
  await getRewardProof(database.db, epoch, device_id, timing, Date.now());

const direct: number[] = [];
for (const { device_id } of picked) {
  const t = performance.now();
  await getRewardProof(database.db, epoch, device_id, timing, Date.now());
  direct.push(performance.now() - t);
}

const port = await freePort();
const dataDir = join(tmpdir(), `ignis-proof-bench-${process.pid}`);
const config = loadConfig({
  DATABASE_URL: url.toString(),
  IGNIS_PORT: String(port),
  IGNIS_HOST: "127.0.0.1",
  IGNIS_DATA_DIR: dataDir,
  IGNIS_LOG_LEVEL: "silent",
  IGNIS_RATE_LIMITS: "off",
  // 2,000 reads a second from one address is what the anomaly detector should block; this bench is that address.
  IGNIS_SECURITY_CONTAINMENT: "off",
});
const server = await createServer(config);
await server.listen();
const http: number[] = [];
for (const { device_id } of picked) {
  const t = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/v1/rewards/epochs/${epoch}/proofs/${device_id}`);
  const body = await res.json();
  if (res.status !== 200) throw new Error(`proof lookup answered ${res.status}: ${JSON.stringify(body)}`);
  http.push(performance.now() - t);
}
await server.close();
await database.close();
rmSync(dataDir, { recursive: true, force: true });

console.log(`epoch ${epoch} with ${row.devices} leaves; ${LOOKUPS} lookups of random devices, one at a time`);
console.log(`domain (2 queries, pages on the path, root check): ${percentiles(direct)}`);
console.log(
  `HTTP GET /v1/rewards/epochs/{epoch}/proofs/{deviceId}: ${percentiles(http)} (target p95 ≤ 20 ms)`,
);
