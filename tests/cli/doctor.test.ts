import { once } from "node:events";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DoctorCheck } from "../../apps/cli/src/doctor/doctor-check.js";
import { generateDeviceKey } from "../../apps/cli/src/worker/device-key.js";
import {
  ensureStateDir,
  keyPath,
  writeDeviceKey,
  writeDeviceState,
} from "../../apps/cli/src/worker/worker-state.js";
import { createTestDatabase } from "../../apps/server/src/testing/dialects.js";
import { startTestServer, type TestServer } from "../../apps/server/src/testing/test-server.js";
import { runBin } from "./run-bin.js";

const IGNIS = "apps/cli/bin/ignis.js";

/** A state folder holding an enrolled device's record and key, as `ignis worker enroll` leaves it. */
function enrolledState(server: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "ignis-doctor-")), "state");
  ensureStateDir(dir);
  const key = generateDeviceKey();
  writeDeviceKey(dir, key);
  writeDeviceState(dir, {
    server,
    deviceId: "dev_doctor",
    keyId: "key_doctor",
    publicKey: "unused",
    profile: "sim-a100",
    enrolledAt: new Date().toISOString(),
  });
  return dir;
}

function checksOf(stdout: string): Record<string, DoctorCheck> {
  const { checks } = JSON.parse(stdout) as { checks: DoctorCheck[] };
  expect(checks.map((c) => c.id)).toEqual(["server", "clock", "key", "gpu", "sandbox", "network"]);
  return Object.fromEntries(checks.map((c) => [c.id, c]));
}

describe("ignis doctor", () => {
  let t: TestServer;
  let deadServer: string;
  const dirs: string[] = [];

  beforeAll(async () => {
    t = await startTestServer({ database: await createTestDatabase("pglite") });
    // A port that was listened on and closed: nothing answers there.
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    deadServer = `http://127.0.0.1:${(probe.address() as { port: number }).port}`;
    probe.close();
    await once(probe, "close");
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    for (const d of dirs) rmSync(dirname(d), { recursive: true, force: true });
  });

  it("fails on a dead server, a key others can read and a missing container engine, with the fix for each", async () => {
    const state = enrolledState(deadServer);
    dirs.push(state);
    chmodSync(keyPath(state), 0o644);
    // Only node's own folder on PATH: no podman, no docker.
    const r = await runBin(IGNIS, ["doctor", "--state", state, "--json"], {
      env: { PATH: dirname(process.execPath), IGNIS_SERVER: undefined },
    });
    expect(r.code).toBe(1);
    const c = checksOf(r.stdout);
    expect(c.server).toMatchObject({
      status: "fail",
      detail: expect.stringContaining(`cannot reach ${deadServer}`),
    });
    expect(c.server!.fix).toContain(`ignis-server runs at ${deadServer}`);
    expect(c.key).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("mode 644"),
      fix: `make it private: chmod 600 ${keyPath(state)}`,
    });
    expect(c.sandbox).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("podman is not installed"),
    });
    expect(c.sandbox!.fix).toContain("apt-get install -y podman runc");
    expect(c.clock!.status).toBe("warn");
    expect(c.network!.status).toBe("warn");
    // A simulated device reports its profile's GPU.
    expect(c.gpu).toMatchObject({ status: "pass", detail: expect.stringContaining("sim-a100") });
  }, 120_000);

  it("passes the server, clock, key and network checks against a live server, measuring the link", async () => {
    const state = enrolledState(t.url);
    dirs.push(state);
    const r = await runBin(IGNIS, ["doctor", "--state", state, "--json"], {
      env: { IGNIS_SERVER: undefined },
    });
    const c = checksOf(r.stdout);
    expect(c.server).toMatchObject({
      status: "pass",
      detail: expect.stringMatching(/answers \(release \d+\.\d+\.\d+\)/),
    });
    expect(c.clock).toMatchObject({
      status: "pass",
      detail: expect.stringMatching(/ms (ahead of|behind) the server's/),
    });
    expect(c.key).toMatchObject({ status: "pass" });
    expect(c.key!.fix).toBeUndefined();
    // Speed depends on the machine's load: a slow figure is a warning, never a failure.
    expect(["pass", "warn"]).toContain(c.network!.status);
    expect(c.network!.detail).toMatch(/round trip [\d.]+ ms \(median of 5\), download [\d.]+ Mbit\/s/);
    // Only the sandbox (this machine's engine) can still fail; exit 1 exactly when it does.
    expect(r.code).toBe(c.sandbox!.status === "fail" ? 1 : 0);
  }, 120_000);

  it("prints a table with the fix under each problem", async () => {
    const state = enrolledState(deadServer);
    dirs.push(state);
    chmodSync(keyPath(state), 0o640);
    const r = await runBin(IGNIS, ["doctor", "--state", state], { env: { IGNIS_SERVER: undefined } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^CHECK +STATUS +DETAIL$/m);
    expect(r.stdout).toMatch(/^key +FAIL +the device key .* is readable by others \(mode 640\)$/m);
    expect(r.stdout).toContain(`fix: make it private: chmod 600 ${keyPath(state)}`);
    expect(r.stdout).toMatch(/required checks? failed/);
  }, 120_000);

  it("refuses a --server that is not an http(s) URL as a usage error (exit 2)", async () => {
    const r = await runBin(IGNIS, ["doctor", "--server", "ftp://x", "--json"], {
      env: { IGNIS_SERVER: undefined },
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  }, 60_000);
});
