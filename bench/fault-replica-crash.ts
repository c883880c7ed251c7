/**
 * Fault timeline: kill -9 one of two replicas under load and watch its devices come back on the other.
 *   npx tsx bench/fault-replica-crash.ts            (200 devices; IGNIS_BENCH_DEVICES to change)
 * Needs PostgreSQL on 127.0.0.1:5432 and NATS on 127.0.0.1:4222 (as in CI).
 */
import { runReplicaCrashScenario } from "../tests/faults/replica-crash-scenario.js";

const devices = Number(process.env.IGNIS_BENCH_DEVICES ?? 200);
const stamp = (ms: number) => `t+${(ms / 1000).toFixed(2).padStart(6)} s`;

const result = await runReplicaCrashScenario({
  devices,
  heartbeatSeconds: 1,
  epochSeconds: 60,
  steadyMs: 3_000,
  onEvent: (atMs, text) => console.log(`${stamp(atMs)}  ${text}`),
});

console.log("\nonline devices after the kill (every 100 ms until all are back):");
let last = -1;
for (const point of result.timeline) {
  if (point.online === last) continue;
  last = point.online;
  console.log(`  kill+${String(point.atMs).padStart(5)} ms  ${String(point.online).padStart(5)} online`);
}
console.log(
  `\nresult: ${result.devicesOnKilled} of ${result.devices} devices were on the killed replica; all back after ` +
    `${result.allBackAfterMs ?? "never"} ms; uptime lost per moved device: max ${result.lost.killedMax}, mean ` +
    `${result.lost.killedMean.toFixed(2)} slot(s) of ${result.slotSeconds} s (flush every ${result.flushSeconds.toFixed(2)} s); ` +
    `devices of the surviving replica lost ${result.lost.survivorMax}`,
);
