import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentRelease } from "../../../cli/src/worker/update/release-install.js";
import { UpdateRefused } from "../../../cli/src/worker/update/release-verify.js";
import { type UpdateOptions, updateWorker } from "../../../cli/src/worker/update/self-update.js";
import { readOnline, readRunningWorker } from "../../../cli/src/worker/update/worker-process.js";
import { WORKER_RELEASE } from "../../../cli/src/worker/worker-release.js";
import { createTestDatabase } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import { call, cleanupStateDirs, enrollSimulated, userWithKey } from "../testing/worker-fixture.js";
import {
  goodPackage,
  hangingPackage,
  IGNIS_BIN,
  type TestReleaseKey,
  testReleaseKey,
} from "./release-fixture.js";

/** Self-update with real packages, real worker processes and a real server (PGlite: the database is not the subject). */
describe("ignis worker update", () => {
  // 20 s slots: an update restarts the worker well within one, so no slot may be lost.
  const EPOCH_SECONDS = 1200;
  let t: TestServer;
  let supplier: { key: string };
  let device: { deviceId: string; stateDir: string };
  let key: TestReleaseKey;
  let work: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    t = await startTestServer({
      database: await createTestDatabase("pglite"),
      env: {
        IGNIS_HEARTBEAT_SECONDS: "1",
        IGNIS_EPOCH_SECONDS: String(EPOCH_SECONDS),
        IGNIS_UPTIME_FLUSH_SECONDS: "0.2",
      },
    });
    supplier = await userWithKey(t);
    device = await enrollSimulated(t, supplier.key);
    key = testReleaseKey();
    work = mkdtempSync(join(tmpdir(), "ignis-update-"));
    // The worker as a supplier runs it: `ignis worker run`, its own process.
    const out = openSync(join(device.stateDir, "worker.log"), "a");
    children.push(
      spawn(
        process.execPath,
        [IGNIS_BIN, "worker", "run", "--state", device.stateDir, "--unsafe-subprocess-jobs"],
        { stdio: ["ignore", out, out] },
      ),
    );
    // Bounds for a loaded machine (two cores, several suites): the first start compiles the worker through tsx.
    await waitFor("the first worker online", () => readOnline(device.stateDir)?.version === WORKER_RELEASE, {
      timeoutMs: 150_000,
    });
  }, 240_000);

  afterAll(async () => {
    const running = readRunningWorker(device.stateDir);
    if (running) process.kill(running.pid, "SIGTERM");
    for (const child of children) child.kill("SIGTERM");
    await waitFor("the worker stopped", () => !readRunningWorker(device.stateDir), { timeoutMs: 20_000 });
    await t.stop();
    cleanupStateDirs();
    rmSync(work, { recursive: true, force: true });
  });

  const options = (): UpdateOptions => ({
    stateDir: device.stateDir,
    installDir: join(device.stateDir, "releases"),
    releaseKey: key.publicKey,
    onlineWithinMs: 30_000,
    runningRelease: WORKER_RELEASE,
    launcher: { node: process.execPath, script: IGNIS_BIN },
    log: () => {},
  });
  const serverSees = () => t.server.ctx.gateway.session(device.deviceId)?.workerVersion;

  it("refuses a package whose signature is not the release key's, and installs nothing", async () => {
    const pkg = goodPackage(work, "0.2.0");
    const before = readRunningWorker(device.stateDir);
    const forged = testReleaseKey().sign(pkg.version, pkg.sha256);
    const refusal = await updateWorker(
      { version: pkg.version, package: pkg.file, signature: forged },
      options(),
    ).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(UpdateRefused);
    expect((refusal as UpdateRefused).code).toBe("bad_signature");
    // A signature of another version does not carry over either.
    const otherVersion = await updateWorker(
      { version: pkg.version, package: pkg.file, signature: key.sign("0.2.1", pkg.sha256) },
      options(),
    ).catch((error: unknown) => error);
    expect((otherVersion as UpdateRefused).code).toBe("bad_signature");
    expect(existsSync(join(device.stateDir, "releases"))).toBe(false);
    expect(readRunningWorker(device.stateDir)?.pid).toBe(before?.pid);
    expect(serverSees()).toBe(WORKER_RELEASE);
  });

  it("rolls back to the previous release when the new one does not come online within the bound", async () => {
    const pkg = hangingPackage(work, "0.3.0");
    const before = readRunningWorker(device.stateDir)!;
    const result = await updateWorker(
      {
        version: pkg.version,
        package: pkg.file,
        signature: key.sign(pkg.version, pkg.sha256),
        sha256: pkg.sha256,
      },
      { ...options(), onlineWithinMs: 4_000 },
    );
    expect(result).toMatchObject({ outcome: "rolled_back", from: WORKER_RELEASE, to: "0.3.0" });
    expect(currentRelease(options().installDir)).toBe(WORKER_RELEASE);
    const after = await waitFor("the previous release running again", () =>
      readRunningWorker(device.stateDir),
    );
    expect(after.pid).not.toBe(before.pid);
    expect(after.version).toBe(WORKER_RELEASE);
    // Restarted with the flags it had.
    expect(after.args).toEqual(["--unsafe-subprocess-jobs"]);
    await waitFor(
      "the server sees the previous release",
      () => serverSees() === WORKER_RELEASE && readOnline(device.stateDir)?.pid === after.pid,
    );
  }, 90_000);

  it("switches to a good release, which comes online as the new version without losing an uptime slot", async () => {
    const pkg = goodPackage(work, "0.2.0");
    const result = await updateWorker(
      { version: pkg.version, package: pkg.file, signature: key.sign(pkg.version, pkg.sha256) },
      options(),
    );
    expect(result).toEqual({ outcome: "switched", from: WORKER_RELEASE, to: "0.2.0", restarted: true });
    expect(currentRelease(options().installDir)).toBe("0.2.0");
    expect(readFileSync(join(options().installDir, "current", "release.json"), "utf8")).toContain("0.2.0");
    // 0.3.0, which was rolled back, is removed; the release a rollback would return to stays.
    expect(readdirSync(join(options().installDir, "versions")).sort()).toEqual(
      [WORKER_RELEASE, "0.2.0"].sort(),
    );
    await waitFor("the server sees 0.2.0", () => serverSees() === "0.2.0");
    // Two restarts (the rollback and this update) and not one slot without a heartbeat since the first session.
    await t.server.ctx.uptime.flush();
    const rows = await t.server.ctx.db
      .selectFrom("uptime")
      .select(["epoch", "minute_mask"])
      .where("device_id", "=", device.deviceId)
      .orderBy("epoch")
      .execute();
    const slots: number[] = [];
    for (const row of rows) {
      const mask = BigInt(row.minute_mask);
      for (let i = 0; i < 60; i++) if ((mask >> BigInt(i)) & 1n) slots.push(Number(row.epoch) * 60 + i);
    }
    const first = slots[0]!;
    const last = slots.at(-1)!;
    expect(slots).toEqual(Array.from({ length: last - first + 1 }, (_, i) => first + i));
  }, 90_000);

  it("installs a release the server rolls out by itself when its owner turned automatic updates on", async () => {
    const pkg = goodPackage(work, "0.4.0");
    const upload = await call(t, "POST", "/v1/admin/worker-releases", t.adminKey, {
      version: "0.4.0",
      packageBase64: pkg.bytes.toString("base64"),
      signature: key.sign("0.4.0", pkg.sha256),
    });
    expect(upload.status).toBe(201);
    // The supplier's own settings: automatic mode, and (a test fleet) the test release key.
    writeFileSync(
      join(device.stateDir, "update.json"),
      JSON.stringify({ auto: true, releaseKey: key.publicKey }),
    );
    const rollout = await call<{ id: string }>(t, "POST", "/v1/admin/worker-rollouts", t.adminKey, {
      version: "0.4.0",
      percent: 100,
    });
    expect(rollout.status).toBe(201);
    // The worker announces auto-update at its next handshake.
    await t.server.ctx.gateway.disconnect(device.deviceId, "maintenance");
    await waitFor("the server sees 0.4.0", () => serverSees() === "0.4.0", { timeoutMs: 60_000 });
    expect(currentRelease(options().installDir)).toBe("0.4.0");
    const view = await waitFor("the device counted updated", async () => {
      const r = await call<{ counts: { updated: number } }>(
        t,
        "GET",
        `/v1/admin/worker-rollouts/${rollout.body.id}`,
        t.adminKey,
      );
      return r.body.counts.updated === 1 ? r.body : undefined;
    });
    expect(view.counts).toEqual({ offered: 1, updated: 1, failed: 0 });
  }, 120_000);
});
