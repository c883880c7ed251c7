/**
 * Fault timeline: PostgreSQL goes away for 10 s under a heartbeating fleet (through a TCP proxy that is cut,
 * which resets every connection like a restart would, without disturbing anything else on the machine).
 *   npx tsx bench/fault-postgres-outage.ts          (100 devices; IGNIS_BENCH_DEVICES to change)
 * Needs PostgreSQL on 127.0.0.1:5432 and NATS on 127.0.0.1:4222.
 */
import { runPostgresOutageScenario } from "../tests/faults/postgres-outage-scenario.js";

const devices = Number(process.env.IGNIS_BENCH_DEVICES ?? 100);
const stamp = (ms: number) => `t+${(ms / 1000).toFixed(2).padStart(6)} s`;

const result = await runPostgresOutageScenario({
  devices,
  // Two heartbeats per 1 s slot, so timer drift never skips a slot and any gap is a real loss.
  heartbeatSeconds: 0.5,
  epochSeconds: 60,
  outageMs: 10_000,
  steadyMs: 3_000,
  onEvent: (atMs, text) => console.log(`${stamp(atMs)}  ${text}`),
});

console.log(
  `\nresult: replica ${result.replicaSurvived ? "kept running" : "DIED"}; ${result.minOnlineDuringOutage}/` +
    `${result.devices} devices stayed online through the outage; ${result.failedFlushes} failed flushes kept ` +
    `their minutes; stored ${result.firstFlushAfterRestoreMs} ms after the restore; ${result.lost.total} slot(s) ` +
    `of ${result.slotSeconds} s lost in total`,
);
