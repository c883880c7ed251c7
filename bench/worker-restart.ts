/**
 * How long a restarted worker takes to be back online: the packed worker (what `npm i -g` installs), stopped with
 * SIGTERM and started again, as an update or a supplier's reboot of the service does.
 *
 *   npx tsx bench/worker-restart.ts [--restarts 5]
 *
 * The worker is packed and installed into a temporary prefix (apps/cli/scripts/pack-worker.ts), enrolled against
 * an in-process server on PGlite (heartbeat 0.5 s), started once and left to pass its first proof; then each
 * round stops it (SIGTERM, waiting for its exit) and spawns it again. For each restart it prints the time from
 * the spawn to the worker's `online as` log line (the server accepted its signed hello), and from the spawn to
 * the server listing the device `online`. `node -e 0` is timed beside it as the floor of any process start.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { packWorker } from "../apps/cli/scripts/pack-worker.js";
import { createTestDatabase } from "../apps/server/src/testing/dialects.js";
import { startTestServer } from "../apps/server/src/testing/test-server.js";
import { waitFor } from "../apps/server/src/testing/wait-for.js";
import { call, enrollmentCode, userWithKey } from "../apps/server/src/testing/worker-fixture.js";

const run = promisify(execFile);
const { values } = parseArgs({ options: { restarts: { type: "string", default: "5" } } });
const restarts = Number(values.restarts);

const work = mkdtempSync(join(tmpdir(), "ignis-worker-restart-"));
const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: work };
const t = await startTestServer({
  database: await createTestDatabase("pglite"),
  env: { IGNIS_HEARTBEAT_SECONDS: "0.5" },
});
try {
  const packed = await packWorker(join(work, "out"));
  const prefix = join(work, "prefix");
  await run(
    "npm",
    ["install", "--global", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", packed.tarball],
    { env: { ...process.env, npm_config_cache: join(work, "npm-cache") } },
  );
  const ignis = join(prefix, "bin", "ignis");
  const supplier = await userWithKey(t);
  const code = await enrollmentCode(t, supplier.key);
  const state = join(work, "state");
  const enrolled = await run(
    ignis,
    ["worker", "enroll", "--server", t.url, "--code", code, "--state", state, "--profile", "sim-a100"],
    { cwd: work, env },
  );
  const deviceId = enrolled.stdout.trimEnd().split("\n").at(-1)!;
  const status = async () =>
    (await call<{ status: string }>(t, "GET", `/v1/devices/${deviceId}`, supplier.key)).body.status;

  /** Spawns the worker; resolves with the ms from spawn to its `online as` line and to the server's `online`. */
  const start = async (): Promise<{ child: ChildProcess; toLogMs: number; toServerMs: number }> => {
    // The server must have seen the previous session end, or "online" below would be the old one.
    await waitFor("the device offline", status, { until: (s) => s !== "online", timeoutMs: 30_000 });
    const spawnedAt = performance.now();
    const child = spawn(ignis, ["worker", "run", "--state", state], { cwd: work, env, stdio: "pipe" });
    let toLogMs = Number.NaN;
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (process.env.IGNIS_BENCH_TRACE)
        for (const line of chunk.toString().trimEnd().split("\n"))
          console.log(`  +${(performance.now() - spawnedAt).toFixed(0)} ms ${line}`);
      if (Number.isNaN(toLogMs) && output.includes("online as ")) toLogMs = performance.now() - spawnedAt;
    });
    child.stderr!.resume();
    await waitFor("the device online", status, {
      until: (s) => s === "online",
      timeoutMs: 60_000,
      everyMs: 20,
    });
    const toServerMs = performance.now() - spawnedAt;
    await waitFor("the worker's online line", async () => !Number.isNaN(toLogMs), { timeoutMs: 10_000 });
    return { child, toLogMs, toServerMs };
  };
  const stop = async (child: ChildProcess) => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };

  const nodeStarts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const at = performance.now();
    await run(process.execPath, ["-e", "0"]);
    nodeStarts.push(performance.now() - at);
  }
  let current = await start();
  console.log(
    `first start: online line ${current.toLogMs.toFixed(0)} ms, server online ${current.toServerMs.toFixed(0)} ms`,
  );
  const rows: Array<{ toLogMs: number; toServerMs: number }> = [];
  for (let i = 0; i < restarts; i++) {
    await stop(current.child);
    current = await start();
    rows.push(current);
    console.log(
      `restart ${i + 1}: online line ${current.toLogMs.toFixed(0)} ms, server online ${current.toServerMs.toFixed(0)} ms`,
    );
  }
  await stop(current.child);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    JSON.stringify({
      restarts,
      medianToOnlineLineMs: Math.round(median(rows.map((r) => r.toLogMs))),
      medianToServerOnlineMs: Math.round(median(rows.map((r) => r.toServerMs))),
      maxToServerOnlineMs: Math.round(Math.max(...rows.map((r) => r.toServerMs))),
      nodeStartMs: Math.round(median(nodeStarts)),
      loadAverage: loadavg()[0]!.toFixed(1),
    }),
  );
} finally {
  await t.stop();
  rmSync(work, { recursive: true, force: true });
}
