/**
 * Fault timeline: a process closing a reward epoch is killed with SIGKILL mid-way (at each stage of the close in
 * turn); the rerun must publish the root an uninterrupted close publishes.
 *   npx tsx bench/fault-epoch-close.ts          (50,000 devices; IGNIS_BENCH_DEVICES to change)
 * Needs PostgreSQL on 127.0.0.1:5432.
 */
import type { CloseStage } from "../apps/server/src/rewards/epoch-close.js";
import { runEpochCloseInterruptScenario } from "../tests/faults/epoch-close-interrupt-scenario.js";

const devices = Number(process.env.IGNIS_BENCH_DEVICES ?? 50_000);
const stages: CloseStage[] = ["shares", "rewards", "tree", "ledger", "epoch"];
const stamp = (ms: number) => `t+${(ms / 1000).toFixed(2).padStart(6)} s`;

let failures = 0;
for (const stage of stages) {
  console.log(`\n--- killed after stage "${stage}" ---`);
  const result = await runEpochCloseInterruptScenario({
    devices,
    stage,
    onEvent: (atMs, text) => console.log(`${stamp(atMs)}  ${text}`),
  });
  const clean = Object.values(result.leftBehind).every((n) => n === 0);
  const same = result.rerunRoot === result.referenceRoot;
  if (!clean || !same || !result.recomputeMatches) failures++;
  console.log(
    `${stage}: nothing left behind ${clean ? "yes" : "NO"}; rerun root identical ${same ? "yes" : "NO"}; ` +
      `recompute matches ${result.recomputeMatches ? "yes" : "NO"}; rerun took ${result.rerunMs} ms`,
  );
}
console.log(
  `\nresult: ${stages.length - failures}/${stages.length} interrupted closes (${devices} devices) left nothing ` +
    "behind and reran to the identical root",
);
process.exitCode = failures === 0 ? 0 : 1;
