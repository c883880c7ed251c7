import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackedWorker, packWorker } from "../../apps/cli/scripts/pack-worker.js";
import { createTestDatabase } from "../../apps/server/src/testing/dialects.js";
import { freePort, startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { call, enrollmentCode, userWithKey } from "../../apps/server/src/testing/worker-fixture.js";
import { startTcpProxy, type TcpProxy } from "../faults/tcp-proxy.js";

const run = promisify(execFile);
/** The bound on what `npm i -g` of the worker leaves on disk. */
const MAX_INSTALLED_BYTES = 15 * 1024 * 1024;

function bytesUnder(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0);
}

// The packed CLI runs with nothing of this repository reachable: installed into a temporary prefix, started from
// a temporary folder, with only node's own folder and the system's on PATH (no npx, no tsx, no workspace).
describe("the packed worker (npm run pack:worker, then npm i -g of the tarball)", () => {
  let work: string;
  let packed: PackedWorker;
  let prefix: string;
  let ignis: string;
  let t: TestServer;
  // The worker reaches the server through a proxy the test can cut, as a network drop would.
  let proxy: TcpProxy;
  let publicUrl: string;
  let worker: ChildProcess | undefined;
  const env = () => ({ PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: work });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "ignis-packed-"));
    packed = await packWorker(join(work, "out"));
    prefix = join(work, "prefix");
    // --offline: the tarball has no dependencies, so installing it needs no registry at all.
    await run(
      "npm",
      ["install", "--global", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", packed.tarball],
      {
        env: { ...process.env, npm_config_cache: join(work, "npm-cache") },
      },
    );
    ignis = join(prefix, "bin", "ignis");
    const proxyPort = await freePort();
    publicUrl = `http://127.0.0.1:${proxyPort}`;
    t = await startTestServer({
      database: await createTestDatabase("pglite"),
      env: { IGNIS_HEARTBEAT_SECONDS: "0.5", IGNIS_PUBLIC_URL: publicUrl },
    });
    proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(t.url).port) }, proxyPort);
  }, 120_000);
  afterAll(async () => {
    worker?.kill("SIGKILL");
    await proxy?.close();
    await t?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("installs under 15 MB with no dependencies, no tsx and no TypeScript", () => {
    const installed = join(prefix, "lib", "node_modules", "@ignis", "cli");
    const bytes = bytesUnder(installed);
    console.info(
      `[packed worker] tarball ${(packed.tarballBytes / 1e6).toFixed(2)} MB, installed ${(bytes / 1e6).toFixed(2)} MB`,
    );
    expect(bytes).toBeLessThan(MAX_INSTALLED_BYTES);
    expect(existsSync(join(installed, "node_modules"))).toBe(false);
    const files = readdirSync(join(installed, "lib"));
    expect(files).toContain("main.js");
    expect(files).toContain("fleet-child.js");
    expect(files.filter((f) => f.endsWith(".ts"))).toEqual([]);
  });

  it("answers ignis --help and ignis worker enroll --help with exit 0", async () => {
    const help = await run(ignis, ["--help"], { cwd: work, env: env() });
    expect(help.stdout).toContain("ignis worker enroll");
    expect(help.stdout).toContain("ignis worker run");
    const enrollHelp = await run(ignis, ["worker", "enroll", "--help"], { cwd: work, env: env() });
    expect(enrollHelp.stdout).toContain("--code");
  });

  it("enrolls a device against a real server, runs it, and says in plain words that its proof passed and that it reconnected", async () => {
    const supplier = await userWithKey(t);
    const code = await enrollmentCode(t, supplier.key);
    const state = join(work, "state");
    const enrolled = await run(
      ignis,
      ["worker", "enroll", "--server", publicUrl, "--code", code, "--state", state, "--profile", "sim-a100"],
      { cwd: work, env: env() },
    );
    const deviceId = enrolled.stdout.trimEnd().split("\n").at(-1)!;
    expect(deviceId).toMatch(/^dev_[a-z2-7]{26}$/);

    worker = spawn(ignis, ["worker", "run", "--state", state], { cwd: work, env: env(), stdio: "pipe" });
    let output = "";
    worker.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => worker!.once("exit", (c) => resolve(c)));
    const device = async () =>
      (
        await call<{ status: string; verification: string }>(
          t,
          "GET",
          `/v1/devices/${deviceId}`,
          supplier.key,
        )
      ).body;
    await waitFor("the device online", () => device(), {
      until: (d) => d.status === "online",
      timeoutMs: 20_000,
    });
    await waitFor("the worker to log its passed proof", async () => output.includes("proof of GPU passed"), {
      timeoutMs: 30_000,
    });
    expect(output).toMatch(
      /proof of GPU passed \(\S+\): the device is verified, can be hired, and earns rewards/,
    );
    expect((await device()).verification).toBe("verified");

    await proxy.cut();
    await waitFor(
      "the worker to log the lost connection",
      async () => output.includes("lost the connection"),
      { timeoutMs: 20_000 },
    );
    await proxy.restore();
    await waitFor(
      "the worker to log its reconnection",
      async () => output.includes(`reconnected as ${deviceId} after`),
      { timeoutMs: 30_000 },
    );
    worker.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 60_000);
});
