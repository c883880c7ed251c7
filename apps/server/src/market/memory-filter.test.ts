import type { CreateClusterBody } from "@ignis/protocol";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { memoryOf, memoryProvenAt } from "../proof/memory-proof.js";
import { describeEachDialect } from "../testing/dialects.js";
import { jobsOf } from "./cluster-view.js";
import { createCluster } from "./create-cluster.js";
import { applyJobStatus } from "./job-events.js";
import { runLifecycle } from "./lifecycle.js";
import {
  clusterRequest,
  createCustomer,
  createTestUser,
  heartbeat,
  insertDevices,
  type MarketHarness,
  marketHarness,
} from "./market-fixtures.js";
import { rankCandidates, schedulingOptions } from "./scheduler.js";

const MODEL = "Other GPU";
const body = (over: Partial<CreateClusterBody>) => clusterRequest(MODEL, over);

let seq = 0;
/** A decided check of the device issued at `at`, with or without the memory phase. */
async function check(
  db: Db,
  deviceId: string,
  at: number,
  outcome: "pass" | "fail" | "timeout",
  memoryPhase: boolean,
): Promise<void> {
  seq += 1;
  await db
    .insertInto("proof_challenges")
    .values({
      id: `c${String(seq).padStart(31, "0")}`,
      device_id: deviceId,
      profile: "other-gpu",
      gpu_count: 1,
      n: 64,
      inner_dim: 64,
      batch: 1,
      reveal_rows: 8,
      expected_ms: 100,
      deadline_ms: 200,
      rtt_ms: 5,
      trigger: "schedule",
      replica: "r1",
      issued_at: new Date(at),
      decided_at: new Date(at + 500),
      outcome,
      reason: outcome === "pass" ? null : outcome === "fail" ? "vram_short" : "commit_late",
      memory_phase: memoryPhase,
    })
    .execute();
}

// A customer may ask for devices whose claimed memory is proven: the latest decided check (pass or fail) carried
// the memory phase and passed. A worker without the phase (the CUDA prover) is verified on speed alone.
describeEachDialect("cluster requests that ask for proven memory", (database) => {
  let h: MarketHarness;
  let customer: string;
  const ids = { proven: "", speedOnly: "", failedSince: "", timedOutSince: "", never: "" };

  beforeAll(async () => {
    h = marketHarness(database().db);
    const supplier = await createTestUser(h.ctx.db, ["supplier"]);
    customer = await createCustomer(h.ctx.db, 100_000_000n);
    const made = await insertDevices(h.ctx.db, {
      ownerId: supplier,
      count: 5,
      seenAt: h.clock.ms,
      model: MODEL,
      profile: "other-gpu",
    });
    const [proven, speedOnly, failedSince, timedOutSince, never] = made as [
      string,
      string,
      string,
      string,
      string,
    ];
    Object.assign(ids, { proven, speedOnly, failedSince, timedOutSince, never });
    const t = h.clock.ms - 3_600_000;
    await check(h.ctx.db, proven, t, "pass", false);
    await check(h.ctx.db, proven, t + 60_000, "pass", true);
    await check(h.ctx.db, speedOnly, t, "pass", false);
    await check(h.ctx.db, failedSince, t, "pass", true);
    await check(h.ctx.db, failedSince, t + 60_000, "fail", true);
    // A timeout proves nothing either way: the pass before it still stands.
    await check(h.ctx.db, timedOutSince, t, "pass", true);
    await check(h.ctx.db, timedOutSince, t + 60_000, "timeout", true);
  });

  const candidates = async (requireProvenMemory?: boolean) =>
    (
      await rankCandidates(
        h.ctx.db,
        {
          gpuModel: MODEL,
          region: null,
          ...(requireProvenMemory === undefined ? {} : { requireProvenMemory }),
          maxPricePerGpuHour: null,
          maxRatePerHour: null,
        },
        schedulingOptions(h.ctx),
      )
    )
      .map((c) => c.deviceId)
      .sort();

  it("matches every verified device without the wish, and only proven ones with it", async () => {
    expect(await candidates()).toHaveLength(5);
    expect(await candidates(false)).toHaveLength(5);
    expect(await candidates(true)).toEqual([ids.proven, ids.timedOutSince].sort());
  });

  it("computes the same answer for the views, and never for a device that is not verified", async () => {
    const rows = await h.ctx.db
      .selectFrom("devices")
      .select(["id", "verification", memoryProvenAt("devices.id").as("at")])
      .where("id", "in", Object.values(ids))
      .execute();
    const proven = (verification: string) =>
      rows
        .filter((r) => memoryOf({ vramGb: 80, gpuCount: 1, verification, memoryProvenAt: r.at }).proven)
        .map((r) => r.id)
        .sort();
    expect(proven("verified")).toEqual([ids.proven, ids.timedOutSince].sort());
    expect(proven("failed")).toEqual([]);
    expect(memoryOf({ vramGb: 80, gpuCount: 2, verification: "verified", memoryProvenAt: null })).toEqual({
      claimedMiB: 160 * 1024,
      proven: false,
      provenAt: null,
    });
  });

  it("keeps the wish on the cluster so a replacement rank is hired under it", async () => {
    const cluster = await createCluster(h.ctx, customer, body({ requireProvenMemory: true, count: 2 }));
    expect(cluster.require_proven_memory).toBe(true);
    const jobs = await h.ctx.db
      .selectFrom("cluster_jobs")
      .select("device_id")
      .where("cluster_id", "=", cluster.id)
      .execute();
    expect(jobs.map((j) => j.device_id).sort()).toEqual([ids.proven, ids.timedOutSince].sort());
  });

  it("answers no_capacity when too few devices have proven memory, and changes nothing", async () => {
    const before = await h.ctx.db.selectFrom("clusters").select("id").execute();
    await expect(createCluster(h.ctx, customer, body({ requireProvenMemory: true }))).rejects.toMatchObject({
      code: "no_capacity",
    });
    expect(await h.ctx.db.selectFrom("clusters").select("id").execute()).toHaveLength(before.length);
  });
});

describeEachDialect("replacing a rank of a cluster that asked for proven memory", (database) => {
  it("hires the replacement among devices with proven memory only, passing over a free unproven one", async () => {
    const h = marketHarness(database().db);
    const model = "Replacement GPU";
    // A model of this test alone, so no other test's device is a candidate.
    h.ctx.prices = { ...h.ctx.prices, canonicalModel: (m) => m, defaultPricePerGpuHour: () => 1_200_000n };
    const supplier = await createTestUser(h.ctx.db, ["supplier"]);
    const customer = await createCustomer(h.ctx.db, 100_000_000n);
    const own = (count: number, price?: bigint) =>
      insertDevices(h.ctx.db, {
        ownerId: supplier,
        count,
        seenAt: h.clock.ms,
        model,
        profile: "other-gpu",
        price,
      });
    const [first, spare] = (await own(2)) as [string, string];
    // The cheapest free device, so only the memory rule keeps it from being the replacement.
    const [unproven] = (await own(1, 1n)) as [string];
    await check(h.ctx.db, first, h.clock.ms - 60_000, "pass", true);
    await check(h.ctx.db, spare, h.clock.ms - 60_000, "pass", true);
    await check(h.ctx.db, unproven, h.clock.ms - 60_000, "pass", false);
    const live = new Set([first, spare, unproven]);
    const cluster = await createCluster(
      h.ctx,
      customer,
      clusterRequest(model, { requireProvenMemory: true, count: 1 }),
    );
    const [job] = await jobsOf(h.ctx.db, [cluster.id]);
    expect([first, spare]).toContain(job!.device_id);
    await applyJobStatus(h.ctx, job!.device_id, {
      type: "job.status",
      jobId: job!.id,
      state: "running",
      exitCode: 0,
    });
    // The hired device goes silent; the other two keep heartbeating until its rank is lost.
    live.delete(job!.device_id);
    const start = h.clock.ms;
    for (const ms of [1000, 2000, 4100]) {
      h.clock.ms = start + ms;
      await heartbeat(h, [...live]);
    }
    expect(await runLifecycle(h.ctx, 1000)).toMatchObject({ lost: 1 });
    const replacement = (await jobsOf(h.ctx.db, [cluster.id])).find((j) => j.replaces === job!.id);
    expect(replacement?.device_id).toBe(job!.device_id === first ? spare : first);
  });
});
