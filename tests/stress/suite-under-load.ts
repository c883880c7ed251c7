/**
 * `npm run test:stress [-- vitest args]`: runs the suite twice in a row (IGNIS_STRESS_RUNS) while another
 * process keeps every core busy (stress-ng when installed, else one node busy loop per core), then lists every
 * test that failed in either run. Exits 1 when anything failed, so a test that passes only on a quiet machine
 * is caught before it blocks a landing. Not part of `npm test`: on two cores one run takes many minutes.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type FailedTest, failuresOf, type VitestJsonReport } from "./vitest-report.js";

const root = resolve(import.meta.dirname, "../..");
const runs = Number(process.env.IGNIS_STRESS_RUNS ?? "2");
const cores = availableParallelism();
const vitestArgs = process.argv.slice(2);
const vitest = join(root, "node_modules", "vitest", "vitest.mjs");

const onPath = (command: string) => spawnSync("sh", ["-c", `command -v ${command}`]).status === 0;

/** The load: its own process group, so that stopping it also stops the workers stress-ng forks. */
function startLoad(): { name: string; child: ChildProcess } {
  if (onPath("stress-ng")) {
    const child = spawn("stress-ng", ["--cpu", String(cores), "--cpu-load", "100", "--quiet"], {
      stdio: "ignore",
      detached: true,
    });
    return { name: `stress-ng --cpu ${cores}`, child };
  }
  const loops = Array.from({ length: cores }, () => "new Worker('for(;;){}',{eval:true})").join(";");
  const child = spawn(process.execPath, ["-e", `const{Worker}=require('node:worker_threads');${loops}`], {
    stdio: "ignore",
    detached: true,
  });
  return { name: `${cores} node busy loops`, child };
}

/** Kills a child's whole process group; true when there was one to kill. */
function kill(child: ChildProcess): boolean {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
  try {
    process.kill(-child.pid, "SIGKILL");
    return true;
  } catch {
    return false; // Already gone.
  }
}

/** Kills a child's whole process group and waits until the child is gone. */
async function stop(child: ChildProcess): Promise<void> {
  const gone = new Promise((resolve) => child.once("exit", resolve));
  if (kill(child)) await gone;
}

/** One run of the suite; resolves with its exit code and the path of its JSON report. */
function runSuite(outputFile: string): Promise<{ code: number | null; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      vitest,
      "run",
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${outputFile}`,
      ...vitestArgs,
    ],
    { cwd: root, stdio: "inherit", detached: true },
  );
  current = child;
  return new Promise((done) => child.once("exit", (code) => done({ code, child })));
}

let current: ChildProcess | undefined;
const load = startLoad();
const scratch = mkdtempSync(join(tmpdir(), "ignis-stress-"));
const cleanUp = async () => {
  await Promise.all([stop(load.child), current ? stop(current) : undefined]);
  rmSync(scratch, { recursive: true, force: true });
};
// However this process ends (tsx's own signal relay may exit it first), the load and the suite end with it.
process.on("exit", () => {
  kill(load.child);
  if (current) kill(current);
  rmSync(scratch, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

const failures = new Map<string, { failed: FailedTest; runs: number[] }>();
const problems: string[] = [];
console.log(`[stress] ${runs} runs of the suite while ${load.name} keep ${cores} cores busy`);
for (let run = 1; run <= runs; run++) {
  const outputFile = join(scratch, `run-${run}.json`);
  const started = Date.now();
  const { code } = await runSuite(outputFile);
  const seconds = Math.round((Date.now() - started) / 1000);
  if (load.child.exitCode !== null || load.child.signalCode !== null) {
    problems.push(`the load (${load.name}) stopped during run ${run}`);
  }
  if (!existsSync(outputFile)) {
    problems.push(`run ${run} exited with ${code} and wrote no report`);
    continue;
  }
  const report = JSON.parse(readFileSync(outputFile, "utf8")) as VitestJsonReport;
  const failed = failuresOf(report, root);
  for (const f of failed) {
    const key = `${f.file} > ${f.test}`;
    const seen = failures.get(key) ?? { failed: f, runs: [] };
    seen.runs.push(run);
    failures.set(key, seen);
  }
  if (code !== 0 && failed.length === 0) problems.push(`run ${run} exited with ${code} but no test failed`);
  console.log(`[stress] run ${run}: ${failed.length} failed, vitest exited ${code}, ${seconds} s`);
}
await cleanUp();

if (failures.size === 0 && problems.length === 0) {
  console.log(`[stress] every test passed in all ${runs} runs under load`);
  process.exit(0);
}
for (const [key, { failed, runs: inRuns }] of failures) {
  console.log(`[stress] FAILED in run ${inRuns.join(" and ")}: ${key}\n           ${failed.message}`);
}
for (const problem of problems) console.log(`[stress] PROBLEM: ${problem}`);
process.exit(1);
