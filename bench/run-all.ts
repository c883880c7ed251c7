/**
 * Runs every benchmark in bench/ one after the other and prints a summary of their figures.
 *
 *   npm run bench                       # every bench except the fault timelines
 *   npm run bench -- --faults           # the fault timelines too (they kill and cut things; slower)
 *   npm run bench -- heartbeat explorer # only benches whose file name contains one of the words
 *   npm run bench -- --list             # what would run
 *
 * Each bench is a script that prints its own figures; the summary repeats its last lines. Benches run in
 * sequence, never in parallel, because they measure a shared 2-core machine. A bench that is not present yet
 * (written by another part of the team) is simply not listed.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const REPO_ROOT = join(BENCH_DIR, "..");
/** Scripts in bench/ that are not benchmarks: this runner, the demo, and fixture generators. */
const NOT_BENCHES = new Set(["run-all.ts", "demo.ts", "proof-vectors.ts"]);
const PER_BENCH_TIMEOUT_MS = Number(process.env.IGNIS_BENCH_TIMEOUT_S ?? 300) * 1000;
const SUMMARY_LINES = 4;

interface Outcome {
  name: string;
  code: number | string;
  seconds: number;
  lastLines: string[];
}

function discover(args: string[]): string[] {
  const withFaults = args.includes("--faults");
  const words = args.filter((a) => !a.startsWith("--"));
  return readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(".ts") && !f.startsWith("_") && !f.endsWith(".test.ts") && !NOT_BENCHES.has(f))
    .filter((f) => withFaults || words.length > 0 || !f.startsWith("fault-"))
    .filter((f) => words.length === 0 || words.some((w) => f.includes(w)))
    .sort();
}

function runOne(file: string): Promise<Outcome> {
  const started = performance.now();
  const name = basename(file, ".ts");
  process.stdout.write(`\n=== ${name} ===\n`);
  return new Promise((resolve) => {
    const lines: string[] = [];
    const child = spawn(process.execPath, ["--import", "tsx", join(BENCH_DIR, file)], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), PER_BENCH_TIMEOUT_MS);
    child.stdout.on("data", (chunk: Buffer) => {
      process.stdout.write(chunk);
      lines.push(
        ...chunk
          .toString()
          .split("\n")
          .filter((l) => l.trim() !== ""),
      );
      if (lines.length > 200) lines.splice(0, lines.length - SUMMARY_LINES);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({
        name,
        code: code ?? signal ?? "?",
        seconds: (performance.now() - started) / 1000,
        lastLines: lines.slice(-SUMMARY_LINES),
      });
    });
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = discover(args);
  if (args.includes("--list")) {
    for (const f of files) process.stdout.write(`${basename(f, ".ts")}\n`);
    return 0;
  }
  if (files.length === 0) {
    process.stdout.write("no benches matched\n");
    return 1;
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  process.stdout.write(`running ${files.length} benches on ${machine}\n`);
  const outcomes: Outcome[] = [];
  for (const file of files) outcomes.push(await runOne(file));

  process.stdout.write(`\n=== summary (${machine}) ===\n`);
  for (const o of outcomes) {
    const status = o.code === 0 ? "ok" : `FAILED (${o.code})`;
    process.stdout.write(
      `\n${o.name}  ${status}  ${o.seconds.toFixed(1)} s  (rerun: npx tsx bench/${o.name}.ts)\n`,
    );
    for (const line of o.lastLines) process.stdout.write(`  ${line}\n`);
  }
  return outcomes.every((o) => o.code === 0) ? 0 : 1;
}

process.exitCode = await main();
