import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { call, enrollmentCode, userWithKey } from "../../apps/server/src/testing/worker-fixture.js";

const IGNIS = fileURLToPath(new URL("../../apps/cli/bin/ignis.js", import.meta.url));
const run = promisify(execFile);

describeEachDialect("ignis worker enroll and run", (database) => {
  let t: TestServer;
  let supplier: { userId: string; key: string };
  let stateDir: string;
  let worker: ChildProcess | undefined;
  beforeAll(async () => {
    t = await startTestServer({ database: database(), env: { IGNIS_HEARTBEAT_SECONDS: "0.5" } });
    supplier = await userWithKey(t);
    stateDir = mkdtempSync(join(tmpdir(), "ignis-cli-worker-"));
  });
  afterAll(async () => {
    worker?.kill("SIGKILL");
    await t.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("enrolls with --profile sim-a100, prints the device id on the last line, runs it online and stops on SIGTERM", async () => {
    const code = await enrollmentCode(t, supplier.key);
    const enrolled = await run(process.execPath, [
      IGNIS,
      "worker",
      "enroll",
      "--server",
      t.url,
      "--code",
      code,
      "--state",
      stateDir,
      "--profile",
      "sim-a100",
    ]);
    const deviceId = enrolled.stdout.trimEnd().split("\n").at(-1)!;
    expect(deviceId).toMatch(/^dev_[a-z2-7]{26}$/);
    expect(statSync(join(stateDir, "device-key.pem")).mode & 0o777).toBe(0o600);

    worker = spawn(process.execPath, [IGNIS, "worker", "run", "--state", stateDir], { stdio: "pipe" });
    let log = "";
    worker.stdout!.on("data", (b: Buffer) => {
      log += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => worker!.once("exit", (code) => resolve(code)));
    const device = async () =>
      (
        await call<{ status: string; profile: string; gpu: { model: string } }>(
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
    expect(await device()).toMatchObject({ profile: "sim-a100", gpu: { model: "NVIDIA A100 (simulated)" } });
    // The checks of `ignis doctor` run beside the worker at start and are logged, one line each, without stopping it.
    await waitFor(
      "the start checks in the worker's log",
      async () => (log.includes("doctor network: ") ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
    for (const id of ["server", "clock", "key", "gpu", "sandbox", "network"]) {
      expect(log).toMatch(new RegExp(`doctor ${id}: (pass|warn|fail) - `));
    }
    expect(log).toMatch(/doctor server: pass - .* answers \(release /);
    expect(log).toMatch(/doctor key: pass - /);
    worker.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 60_000);

  it("refuses to run with a key file others can read, and says how to fix it", async () => {
    const key = join(stateDir, "device-key.pem");
    chmodSync(key, 0o644);
    const refused = await run(process.execPath, [IGNIS, "worker", "run", "--state", stateDir]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    chmodSync(key, 0o600);
    expect((refused as { code: number }).code).toBe(1);
    expect((refused as { stderr: string }).stderr).toContain(`chmod 600 ${key}`);
  }, 60_000);

  it("refuses a reused code with a clear message and a failing exit code", async () => {
    const code = await enrollmentCode(t, supplier.key);
    await run(process.execPath, [
      IGNIS,
      "worker",
      "enroll",
      "--server",
      t.url,
      "--code",
      code,
      "--state",
      mkdtempSync(join(tmpdir(), "ignis-cli-a-")),
      "--profile",
      "sim-cpu",
    ]);
    const again = await run(process.execPath, [
      IGNIS,
      "worker",
      "enroll",
      "--server",
      t.url,
      "--code",
      code,
      "--state",
      mkdtempSync(join(tmpdir(), "ignis-cli-b-")),
      "--profile",
      "sim-cpu",
    ]).catch((e: { code: number; stderr: string }) => e);
    expect((again as { code: number }).code).toBe(1);
    expect((again as { stderr: string }).stderr).toContain("already been used");
  }, 60_000);
});
