import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { releasePackagePath, type WorkerRolloutView } from "@ignis/protocol";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { sha256Hex } from "../../../cli/src/worker/update/release-verify.js";
import { describeEachDialect } from "../testing/dialects.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";
import { waitFor } from "../testing/wait-for.js";
import {
  call,
  cleanupStateDirs,
  startTestWorker,
  type TestWorker,
  userWithKey,
} from "../testing/worker-fixture.js";
import { goodPackage, testReleaseKey } from "./release-fixture.js";
import { expireOffers, inRolloutShare, pauseOnFailures } from "./rollouts.js";

describeEachDialect("staged worker rollouts", (database) => {
  let t: TestServer;
  let supplier: { key: string };
  let work: string;
  const key = testReleaseKey();
  const workers: TestWorker[] = [];

  beforeAll(async () => {
    t = await startTestServer({ database: database(), env: { IGNIS_HEARTBEAT_SECONDS: "1" } });
    supplier = await userWithKey(t);
    work = mkdtempSync(join(tmpdir(), "ignis-rollout-"));
  });
  // Each case starts its own fleet: a device left connected would be offered the next case's release.
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.handle.stop();
    await t.server.ctx.db
      .updateTable("worker_rollouts")
      .set({ status: "done" })
      .where("status", "in", ["running", "paused"])
      .execute();
  });
  afterAll(async () => {
    await t.stop();
    cleanupStateDirs();
    rmSync(work, { recursive: true, force: true });
  });

  const upload = async (version: string) => {
    const pkg = goodPackage(work, version);
    const res = await call(t, "POST", "/v1/admin/worker-releases", t.adminKey, {
      version,
      packageBase64: pkg.bytes.toString("base64"),
      signature: key.sign(version, pkg.sha256),
    });
    expect(res.status).toBe(201);
    return pkg;
  };
  /** A worker at `version` that installs offered releases by itself (or not). */
  const worker = async (options: { version?: string; auto?: boolean; stateDir?: string } = {}) => {
    const w = await startTestWorker(t, supplier.key, {
      workerVersion: options.version ?? "0.1.0",
      autoUpdate: () => options.auto ?? true,
      ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    });
    workers.push(w);
    return w;
  };
  /** What an updater does, seen from the server: the old worker stops, the device comes back as `version`. */
  const comeBackAs = async (w: TestWorker, version: string) => {
    await w.handle.stop();
    return worker({ version, stateDir: w.stateDir });
  };
  const rollout = async (id: string) =>
    (await call<WorkerRolloutView>(t, "GET", `/v1/admin/worker-rollouts/${id}`, t.adminKey)).body;
  const offers = (w: TestWorker) => w.received.filter((m) => m.type === "worker.update-available");

  it("offers a release only to devices that update by themselves, and counts those back on it as updated", async () => {
    const pkg = await upload("0.2.0");
    const auto = await worker();
    const manual = await worker({ auto: false });
    const created = await call<WorkerRolloutView>(t, "POST", "/v1/admin/worker-rollouts", t.adminKey, {
      version: "0.2.0",
      percent: 100,
    });
    expect(created.status).toBe(201);
    const offer = await waitFor("the offer", () => offers(auto)[0]);
    expect(offer).toMatchObject({
      rolloutId: created.body.id,
      version: "0.2.0",
      url: releasePackagePath("0.2.0"),
      sha256: pkg.sha256,
      size: pkg.bytes.length,
    });
    // The package is public and is exactly what was signed.
    const download = await fetch(`${t.url}${releasePackagePath("0.2.0")}`);
    expect(sha256Hex(new Uint8Array(await download.arrayBuffer()))).toBe(pkg.sha256);
    await comeBackAs(auto, "0.2.0");
    const after = await waitFor("the device counted updated", async () => {
      const r = await rollout(created.body.id);
      return r.counts.updated === 1 ? r : undefined;
    });
    expect(after).toMatchObject({ status: "running", counts: { offered: 1, updated: 1, failed: 0 } });
    // A worker whose owner did not turn automatic updates on is never offered one.
    expect(offers(manual)).toEqual([]);
    const finished = await call(t, "PATCH", `/v1/admin/worker-rollouts/${created.body.id}`, t.adminKey, {
      status: "done",
    });
    expect(finished.status).toBe(200);
  }, 90_000);

  it("pauses by itself once the share of offered devices that fail to come back passes its threshold", async () => {
    await upload("0.3.0");
    const fleet = await Promise.all([worker(), worker(), worker(), worker()]);
    const created = await call<WorkerRolloutView>(t, "POST", "/v1/admin/worker-rollouts", t.adminKey, {
      version: "0.3.0",
      percent: 100,
      failureThresholdBps: 2000,
    });
    for (const w of fleet) await waitFor("the offer", () => offers(w)[0]);
    // Three update; one rolls back and comes back on its old release: 25% failed, past the 20% threshold.
    for (const w of fleet.slice(0, 3)) await comeBackAs(w, "0.3.0");
    await comeBackAs(fleet[3]!, "0.1.0");
    const paused = await waitFor("the rollout paused", async () => {
      const r = await rollout(created.body.id);
      return r.status === "paused" ? r : undefined;
    });
    expect(paused.counts).toEqual({ offered: 4, updated: 3, failed: 1 });
    expect(paused.pausedReason).toContain("1 of 4 offered devices failed");
    // A device that connects while it is paused is offered nothing.
    const late = await worker();
    await t.server.ctx.rollouts.tick();
    expect(offers(late)).toEqual([]);
    // An admin resumes it: the late device is offered the release then.
    const resumed = await call<WorkerRolloutView>(
      t,
      "PATCH",
      `/v1/admin/worker-rollouts/${created.body.id}`,
      t.adminKey,
      { status: "running" },
    );
    expect(resumed.body).toMatchObject({ status: "running", pausedReason: null });
    await waitFor("the late device offered", () => offers(late)[0]);
    const audit = await t.server.ctx.db
      .selectFrom("audit_log")
      .select(["action", "outcome"])
      .where("action", "=", "admin.worker-rollout.write")
      .execute();
    expect(audit.length).toBeGreaterThanOrEqual(3);
    await call(t, "PATCH", `/v1/admin/worker-rollouts/${created.body.id}`, t.adminKey, { status: "done" });
  }, 90_000);

  it("counts an offered device that does not come back within the bound as failed", async () => {
    await upload("0.4.0");
    const silent = await worker();
    const created = await call<WorkerRolloutView>(t, "POST", "/v1/admin/worker-rollouts", t.adminKey, {
      version: "0.4.0",
      percent: 100,
      comebackSeconds: 5,
    });
    await waitFor("the offer", () => offers(silent)[0]);
    await silent.handle.stop();
    const db = t.server.ctx.db;
    expect(await expireOffers(db, new Date())).toEqual([]);
    expect(await expireOffers(db, new Date(Date.now() + 6_000))).toEqual([created.body.id]);
    expect(await pauseOnFailures(db, created.body.id, new Date())).toBe(true);
    expect((await rollout(created.body.id)).counts).toEqual({ offered: 1, updated: 0, failed: 1 });
    await call(t, "PATCH", `/v1/admin/worker-rollouts/${created.body.id}`, t.adminKey, { status: "done" });
  }, 60_000);

  it("refuses bad rollouts with a stable code and only admins may touch them", async () => {
    const unknown = await call(t, "POST", "/v1/admin/worker-rollouts", t.adminKey, {
      version: "7.7.7",
      percent: 10,
    });
    expect(unknown).toMatchObject({ status: 404, body: { code: "not_found" } });
    const zero = await call(t, "POST", "/v1/admin/worker-rollouts", t.adminKey, {
      version: "0.4.0",
      percent: 0,
    });
    expect(zero).toMatchObject({ status: 400, body: { code: "validation_failed" } });
    const bySupplier = await call(t, "POST", "/v1/admin/worker-rollouts", supplier.key, {
      version: "0.4.0",
      percent: 10,
    });
    expect(bySupplier.status).toBe(403);
    const again = await call(t, "POST", "/v1/admin/worker-releases", t.adminKey, {
      version: "0.4.0",
      packageBase64: "AAAA",
      signature: "A".repeat(86),
    });
    expect(again).toMatchObject({ status: 409, body: { code: "conflict" } });
    const created = await call<WorkerRolloutView>(t, "POST", "/v1/admin/worker-rollouts", t.adminKey, {
      version: "0.4.0",
      percent: 50,
    });
    const narrower = await call(t, "PATCH", `/v1/admin/worker-rollouts/${created.body.id}`, t.adminKey, {
      percent: 10,
    });
    expect(narrower).toMatchObject({ status: 400, body: { code: "validation_failed" } });
    expect((await rollout(created.body.id)).percent).toBe(50);
  });
});

it("chooses a stable share of devices, and widening keeps every device already chosen", () => {
  const ids = Array.from({ length: 2000 }, (_, i) => `dev_${i.toString().padStart(26, "a")}`);
  const at = (percent: number) => new Set(ids.filter((id) => inRolloutShare("rol_x", id, percent)));
  const ten = at(10);
  const fifty = at(50);
  expect(ten.size).toBeGreaterThan(140);
  expect(ten.size).toBeLessThan(260);
  for (const id of ten) expect(fifty.has(id)).toBe(true);
  expect(at(100).size).toBe(2000);
});
