/**
 * Explorer latency at 600,000 devices: p95 of the device page, the id-prefix search and the stats, measured with
 * autocannon against a real ignis-server on PostgreSQL.
 *
 *   npx tsx bench/explorer-p95.ts                    # reuses the scratch database when it already has the rows
 *   npx tsx bench/explorer-p95.ts --fresh            # regenerates it (about a minute)
 *   npx tsx bench/explorer-p95.ts --devices 100000 --seconds 5 --connections 1
 *
 * Data: a scratch database `ignis_bench_explorer` on 127.0.0.1:5432, dropped and rebuilt with --fresh. Devices
 * spread over 6,000 owners, five models and every status; three epochs of uptime for every connected device,
 * and 30 days of hourly uptime (720 rows) for the first 1,000 online devices, which the device-page run reads.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { sql } from "kysely";
import pg from "pg";
import { openDatabase } from "../apps/server/src/db/database.js";
import { migrateToLatest } from "../apps/server/src/db/migrate.js";
import { freePort } from "../apps/server/src/testing/test-server.js";
import { newLatencyHistogram } from "./_latency.js";

const { values } = parseArgs({
  options: {
    fresh: { type: "boolean" },
    devices: { type: "string" },
    seconds: { type: "string" },
    connections: { type: "string" },
  },
});
const DEVICES = Number(values.devices ?? 600_000);
const SECONDS = Number(values.seconds ?? 10);
const CONNECTIONS = Number(values.connections ?? 10);
const ADMIN_URL = process.env.IGNIS_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NAME = "ignis_bench_explorer";
const url = new URL(ADMIN_URL);
url.pathname = `/${NAME}`;
const DATABASE_URL = url.toString();
const EPOCH_SECONDS = 3600;
const TARGET_P95_MS = 20;

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Creates and fills the scratch database unless it already holds this many devices. */
async function prepare(): Promise<string[]> {
  if (values.fresh) await adminQuery(`drop database if exists ${NAME} with (force)`);
  await adminQuery(`create database ${NAME}`).catch(() => undefined);
  const database = await openDatabase({ databaseUrl: DATABASE_URL, poolSize: 2 });
  const db = database.db;
  try {
    await migrateToLatest(db);
    const { rows } = await sql<{ n: string }>`select count(*) as n from devices`.execute(db);
    if (Number(rows[0]?.n) !== DEVICES) {
      const started = performance.now();
      await sql`truncate uptime, devices, users cascade`.execute(db);
      const owners = Math.max(1, Math.round(DEVICES / 100));
      const epoch = Math.floor(Date.now() / 1000 / EPOCH_SECONDS);
      await sql`insert into users (id, issuer, subject, email, roles)
        select 'usr_' || substr(md5('u' || g), 1, 26), 'bench', 'bench-' || g, 'owner' || g || '@bench.example',
          '["supplier"]'::jsonb
        from generate_series(1, ${owners}::int) g`.execute(db);
      await sql`insert into devices (id, owner_id, label, label_public, status, verification, profile, gpu_vendor,
          gpu_model, gpu_count, vram_gb, region, hardware, created_at, last_seen_at)
        select 'dev_' || substr(md5('d' || g), 1, 26), 'usr_' || substr(md5('u' || (g % ${owners}::int + 1)), 1, 26),
          'rig ' || g, g % 3 = 0,
          (array['online','online','online','offline','hired','pending','quarantined','revoked'])[1 + g % 8],
          (array['verified','verified','verified','unverified','failed'])[1 + g % 5],
          (array['sim-a100','sim-h100','sim-rtx4090','amd-mi300x','apple-m2-ultra'])[1 + g % 5],
          (array['nvidia','nvidia','nvidia','amd','apple'])[1 + g % 5],
          (array['NVIDIA A100','NVIDIA H100','NVIDIA RTX 4090','AMD Instinct MI300X','Apple M2 Ultra'])[1 + g % 5],
          case when g % 8 = 0 then 8 else 1 end, (array[80, 80, 24, 192, 192])[1 + g % 5],
          (array['europe','north-america','asia-pacific','south-america','oceania'])[1 + g % 5], '{}'::jsonb,
          now() - (g % 60) * interval '1 day', now()
        from generate_series(1, ${DEVICES}::int) g`.execute(db);
      await sql`insert into uptime (device_id, epoch, minute_mask, up_minutes)
        select d.id, e, 1152921504606846975, 60 from devices d cross join generate_series(${epoch - 2}::bigint, ${epoch}::bigint) e
        where d.status not in ('pending', 'revoked')`.execute(db);
      await sql`insert into uptime (device_id, epoch, minute_mask, up_minutes)
        select d.id, e, 1152921504606846975, 60
        from (select id from devices where status = 'online' order by id limit 1000) d
        cross join generate_series(${epoch - 720}::bigint, ${epoch - 3}::bigint) e`.execute(db);
      // Vacuum sets the visibility map, as autovacuum does on a live database, so index-only scans skip the heap.
      await sql`vacuum analyze`.execute(db);
      console.log(`generated ${DEVICES} devices in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    const deep = await sql<{
      id: string;
    }>`select id from devices where status = 'online' order by id limit 1000`.execute(db);
    return deep.rows.map((r) => r.id);
  } finally {
    await database.close();
  }
}

/** Starts ignis-server on the scratch database in its own process, so the load generator does not share it. */
async function startServer(): Promise<{ origin: string; stop: () => void }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "ignis-bench-explorer-"));
  const origin = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["apps/server/bin/ignis-server.js"], {
    env: {
      ...process.env,
      DATABASE_URL,
      IGNIS_PORT: String(port),
      IGNIS_HOST: "127.0.0.1",
      IGNIS_PUBLIC_URL: origin,
      IGNIS_DATA_DIR: dataDir,
      // One address reading thousands of devices is what the security monitor blocks as a scraper; here it
      // is the load generator, so alert only.
      IGNIS_RATE_LIMITS: "off",
      IGNIS_SECURITY_CONTAINMENT: "off",
      IGNIS_LOG_LEVEL: "warn",
      // No device heartbeats here: keep the liveness sweep from marking the generated fleet offline mid-run
      // (60 s is the longest heartbeat the server accepts with hour epochs: one uptime slot).
      IGNIS_HEARTBEAT_SECONDS: "60",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 120; i++) {
    if (
      await fetch(`${origin}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    origin,
    stop: () => {
      child.kill("SIGTERM");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs autocannon against paths from `next()` and returns p50/p95/p99 in ms from every response time. */
function measure(
  origin: string,
  next: () => string,
): Promise<{ rps: number; p50: number; p95: number; p99: number; bad: number }> {
  const histogram = newLatencyHistogram();
  const statuses = new Map<number, number>();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: origin,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [{ method: "GET", setupRequest: (request) => ({ ...request, path: next() }) }],
      },
      (error, result) => {
        if (error) return reject(error);
        const ms = (p: number) => histogram.getValueAtPercentile(p) / 1000;
        if (result.non2xx + result.errors > 0)
          console.log("statuses:", Object.fromEntries(statuses), result.errors);
        resolve({
          rps: result.requests.average,
          p50: ms(50),
          p95: ms(95),
          p99: ms(99),
          bad: result.non2xx + result.errors,
        });
      },
    );
    instance.on("response", (_client, status, _bytes, responseMs) => {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      histogram.recordValue(Math.max(1, Math.round(responseMs * 1000)));
    });
  });
}

const deviceIds = await prepare();
const server = await startServer();
try {
  const pick = () => deviceIds[Math.floor(Math.random() * deviceIds.length)]!;
  const runs: [string, () => string][] = [
    ["GET /v1/explorer/devices/{id}", () => `/v1/explorer/devices/${pick()}`],
    ["GET /v1/explorer/devices?q=prefix", () => `/v1/explorer/devices?q=${pick().slice(4, 8)}`],
    ["GET /v1/explorer/stats", () => "/v1/explorer/stats"],
  ];
  // One warm-up pass each: the first stats request reads the month's uptime once, then serves from memory.
  for (const [, next] of runs) await fetch(`${server.origin}${next()}`);
  console.log(
    `${DEVICES} devices, ${SECONDS} s per route, ${CONNECTIONS} connections, target p95 <= ${TARGET_P95_MS} ms`,
  );
  console.log("| route | req/s | p50 ms | p95 ms | p99 ms | non-2xx |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const [name, next] of runs) {
    const r = await measure(server.origin, next);
    console.log(
      `| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.bad} |`,
    );
  }
} finally {
  server.stop();
}
