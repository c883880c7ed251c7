import { beforeEach, expect, it } from "vitest";
import { balanceOf } from "../ledger/balances.js";
import { describeEachDialect } from "../testing/dialects.js";
import { cancelCluster } from "./cancel-cluster.js";
import { clusterViews, findCluster, jobsOf } from "./cluster-view.js";
import { createCluster } from "./create-cluster.js";
import { marketAccounts } from "./escrow.js";
import { applyJobStatus } from "./job-events.js";
import { runLifecycle } from "./lifecycle.js";
import {
  createCustomer,
  createTestUser,
  expectBalancedLedger,
  FIXTURE_MODEL,
  heartbeat,
  insertDevices,
  type MarketHarness,
  marketHarness,
} from "./market-fixtures.js";
import { meterLiveJobs } from "./metering.js";

// Fixture prices: 1,200,000 micro-units per hour = 20,000 per one-second billing minute; the fee is 10%. Each
// test uses its own GPU model, so devices of one test are never candidates in another.
describeEachDialect("metering and settlement", (database) => {
  let h: MarketHarness;
  let supplierA: string;
  let supplierB: string;
  let model = 0;
  beforeEach(async () => {
    h = marketHarness(database().db);
    supplierA = await createTestUser(h.ctx.db, ["supplier"]);
    supplierB = await createTestUser(h.ctx.db, ["supplier"]);
    model++;
    h.ctx.prices = {
      ...h.ctx.prices,
      canonicalModel: (m) => m,
      defaultPricePerGpuHour: () => 1_200_000n,
    };
  });

  const devices = (owner: string, count: number, price?: bigint) =>
    insertDevices(h.ctx.db, {
      ownerId: owner,
      count,
      seenAt: h.clock.ms,
      model: `${FIXTURE_MODEL} ${model}`,
      price,
    });
  const rent = (customer: string, count: number, hours = 1) =>
    createCluster(h.ctx, customer, {
      gpuModel: `${FIXTURE_MODEL} ${model}`,
      count,
      hours,
      job: { command: "run" },
    });
  const report = (job: { id: string; device_id: string }, state: "running" | "exited", exitCode = 0) =>
    applyJobStatus(h.ctx, job.device_id, { type: "job.status", jobId: job.id, state, exitCode });
  /** Moves the clock to `ms` after `start`, heartbeating and metering the live devices. */
  const tickTo = async (start: number, ms: number) => {
    h.clock.ms = start + ms;
    await heartbeat(h, [...h.live]);
    await meterLiveJobs(h.ctx);
  };
  const balances = async (customer: string, clusterId: string) => ({
    customer: await balanceOf(h.ctx.db, marketAccounts.customer(customer)),
    escrow: await balanceOf(h.ctx.db, marketAccounts.escrow(clusterId)),
    supplierA: await balanceOf(h.ctx.db, marketAccounts.supplier(supplierA)),
    supplierB: await balanceOf(h.ctx.db, marketAccounts.supplier(supplierB)),
  });

  it("charges each rank its metered minutes, pays suppliers less the fee and refunds a dropped rank's unused time", async () => {
    const a = await devices(supplierA, 2);
    const [b] = await devices(supplierB, 1, 600_000n);
    const customer = await createCustomer(h.ctx.db, 10_000_000n);
    const start = h.clock.ms;
    const cluster = await rent(customer, 3);
    // Escrow is sized at the highest ask: 1,200,000 × 3 devices × 1 hour.
    expect(cluster.held).toBe("3600000");
    const jobs = await jobsOf(h.ctx.db, [cluster.id]);
    const jobB = jobs.find((j) => j.device_id === b)!;
    const [jobA1, jobA2] = jobs.filter((j) => j !== jobB);
    for (const j of jobs) h.live.add(j.device_id);
    h.clock.ms = start + 100;
    for (const j of jobs) await report(j, "running");
    expect((await findCluster(h.ctx.db, cluster.id))?.status).toBe("running");
    await tickTo(start, 1000);
    await tickTo(start, 2000);
    // B's device drops after minute 2; A1's job ends in minute 2, A2's in minute 4.
    h.live.delete(b!);
    h.clock.ms = start + 2500;
    await report(jobA1!, "exited");
    h.live.delete(jobA1!.device_id);
    await tickTo(start, 3000);
    await tickTo(start, 4000);
    h.clock.ms = start + 4200;
    await report(jobA2!, "exited");
    h.live.delete(jobA2!.device_id);
    // Once every device is silent for longer than lostAfterMs, B's rank is lost; nobody is free to replace it.
    h.clock.ms = start + 7500;
    expect(await runLifecycle(h.ctx, 1000)).toMatchObject({ lost: 1 });

    const after = new Map((await jobsOf(h.ctx.db, [cluster.id])).map((j) => [j.id, j]));
    expect(
      [jobA1, jobA2, jobB].map((j) => [after.get(j!.id)?.state, after.get(j!.id)?.settled_minutes]),
    ).toEqual([
      ["exited", 3],
      ["exited", 5],
      ["lost", 3],
    ]);
    // A1: 3 × 20,000; A2: 5 × 20,000; B (600,000/h): 3 × 10,000. Fees are 10% of each.
    const charged = 60_000n + 100_000n + 30_000n;
    expect(await findCluster(h.ctx.db, cluster.id)).toMatchObject({
      status: "failed",
      charged: charged.toString(),
      fees: "19000",
      refunded: (3_600_000n - charged).toString(),
    });
    expect(await balances(customer, cluster.id)).toEqual({
      customer: 10_000_000n - charged,
      escrow: 0n,
      supplierA: 54_000n + 90_000n,
      supplierB: 27_000n,
    });
    const statuses = await h.ctx.db
      .selectFrom("devices")
      .select("status")
      .where("id", "in", [...a, b!])
      .execute();
    expect(statuses.map((d) => d.status)).toEqual(["online", "online", "online"]);
    await expectBalancedLedger(h.ctx.db);
  });

  it("replaces a dropped device with a free one for the same rank, never billing a minute twice", async () => {
    // All three devices heartbeat; the third stays free for a replacement.
    for (const id of await devices(supplierA, 3)) h.live.add(id);
    const customer = await createCustomer(h.ctx.db, 10_000_000n);
    const start = h.clock.ms;
    const cluster = await rent(customer, 2);
    const jobs = await jobsOf(h.ctx.db, [cluster.id]);
    for (const j of jobs) await report(j, "running");
    await tickTo(start, 1000);
    const [stay, drop] = jobs;
    h.live.delete(drop!.device_id);
    await tickTo(start, 2000);
    await tickTo(start, 4100);
    h.sent.length = 0;
    expect(await runLifecycle(h.ctx, 1000)).toMatchObject({ lost: 1 });
    const replacement = (await jobsOf(h.ctx.db, [cluster.id])).find((j) => j.replaces === drop!.id)!;
    expect(replacement).toMatchObject({ rank: drop!.rank, state: "assigned", active: true });
    expect(h.sent.map((s) => [s.message.type, s.deviceId])).toEqual(
      expect.arrayContaining([
        ["job.stop", drop!.device_id],
        ["job.start", replacement.device_id],
      ]),
    );
    await report(replacement, "running");
    await tickTo(start, 5000);
    await report(replacement, "exited");
    await report(stay!, "exited");
    const final = await jobsOf(h.ctx.db, [cluster.id]);
    const minutes = await h.ctx.db
      .selectFrom("cluster_minutes")
      .select(["rank", "minute", "job_id"])
      .where("cluster_id", "=", cluster.id)
      .execute();
    // The lost device used minutes 0 and 1, the replacement minutes 4 and 5 (its start and a tick), each once.
    expect(
      minutes
        .filter((m) => m.rank === drop!.rank)
        .map((m) => m.minute)
        .sort(),
    ).toEqual([0, 1, 4, 5]);
    expect(final.find((j) => j.id === replacement.id)).toMatchObject({ state: "exited", settled_minutes: 2 });
    expect(await findCluster(h.ctx.db, cluster.id)).toMatchObject({ status: "completed" });
    expect((await balances(customer, cluster.id)).escrow).toBe(0n);
    await expectBalancedLedger(h.ctx.db);
  });

  it("cancels: stops every job, settles the minutes used, refunds the rest, and cannot cancel twice", async () => {
    const ids = await devices(supplierA, 2);
    const customer = await createCustomer(h.ctx.db, 5_000_000n);
    const start = h.clock.ms;
    const cluster = await rent(customer, 2);
    const jobs = await jobsOf(h.ctx.db, [cluster.id]);
    for (const j of jobs) h.live.add(j.device_id);
    for (const j of jobs) await report(j, "running");
    await tickTo(start, 1000);
    h.sent.length = 0;
    const cancelled = await cancelCluster(h.ctx, cluster.id);
    expect(cancelled).toMatchObject({
      status: "cancelled",
      charged: "80000",
      refunded: "2320000",
      end_reason: "cancelled",
    });
    const byJob = (x: { jobId: string }, y: { jobId: string }) => (x.jobId < y.jobId ? -1 : 1);
    expect(h.sent.map((s) => s.message).sort(byJob)).toEqual(
      jobs.map((j) => ({ type: "job.stop", jobId: j.id, reason: "cancelled" })).sort(byJob),
    );
    expect(await balanceOf(h.ctx.db, marketAccounts.customer(customer))).toBe(5_000_000n - 80_000n);
    const statuses = await h.ctx.db.selectFrom("devices").select("status").where("id", "in", ids).execute();
    expect(statuses.map((s) => s.status)).toEqual(["online", "online"]);
    await expect(cancelCluster(h.ctx, cluster.id)).rejects.toMatchObject({ code: "cluster_not_cancellable" });
    await expectBalancedLedger(h.ctx.db);
  });

  it("settles long rentals every hour of metered minutes and stops the jobs when the rental ends", async () => {
    await devices(supplierA, 1);
    const customer = await createCustomer(h.ctx.db, 5_000_000n);
    const start = h.clock.ms;
    const cluster = await rent(customer, 1, 2);
    const [job] = await jobsOf(h.ctx.db, [cluster.id]);
    h.live.add(job!.device_id);
    await report(job!, "running");
    for (let m = 1; m <= 64; m++) await tickTo(start, m * 1000);
    await runLifecycle(h.ctx, 1000);
    expect((await jobsOf(h.ctx.db, [cluster.id]))[0]).toMatchObject({
      settled_minutes: 65,
      state: "running",
    });
    expect(await balanceOf(h.ctx.db, marketAccounts.supplier(supplierA))).toBe(65n * 18_000n);
    await tickTo(start, 65_000);
    await tickTo(start, 66_000);
    h.clock.ms = start + 120_000;
    await heartbeat(h, [job!.device_id]);
    h.sent.length = 0;
    expect(await runLifecycle(h.ctx, 1000)).toMatchObject({ ended: 1 });
    expect(h.sent.map((s) => s.message)).toEqual([
      expect.objectContaining({ type: "job.stop", reason: "rental_ended" }),
    ]);
    expect(await findCluster(h.ctx.db, cluster.id)).toMatchObject({
      status: "completed",
      end_reason: "rental_ended",
      charged: (67n * 20_000n).toString(),
      refunded: (2_400_000n - 67n * 20_000n).toString(),
    });
    const settlements = await h.ctx.db
      .selectFrom("ledger_transactions")
      .select("reference")
      .where("kind", "=", "escrow.settle")
      .where("reference", "like", `cluster:${cluster.id}:%`)
      .orderBy("seq")
      .execute();
    expect(settlements.map((s) => s.reference.split(":").at(-1))).toEqual(["65", "67"]);
    await expectBalancedLedger(h.ctx.db);
  });

  it("never hires again, for the same rental, a device that dropped the job of a rank it held", async () => {
    // A supplier's worker that takes a rank and drops the customer's job on its own, heartbeating all along: it
    // is the only device of its model, so hiring it again for that rank is the only replacement there is.
    const [idle] = await devices(supplierA, 1);
    h.live.add(idle!);
    const customer = await createCustomer(h.ctx.db, 10_000_000n);
    const start = h.clock.ms;
    const cluster = await rent(customer, 1);
    const [job] = await jobsOf(h.ctx.db, [cluster.id]);
    await report(job!, "running");
    await tickTo(start, 1000);
    h.sent.length = 0;
    await applyJobStatus(h.ctx, idle!, { type: "job.status", jobId: job!.id, state: "stopped" });
    expect(h.sent.filter((s) => s.message.type === "job.start")).toEqual([]);
    const jobs = await jobsOf(h.ctx.db, [cluster.id]);
    expect(jobs.map((j) => [j.id, j.state])).toEqual([[job!.id, "lost"]]);
    expect(await view(cluster.id)).toMatchObject({
      status: "failed",
      escrow: { remaining: "0" },
    });
    await expectBalancedLedger(h.ctx.db);
  });

  /** Rents two of `free + 2` devices, runs them a minute, and drops one; the free ones are not heartbeating. */
  const rentAndDrop = async (free: number) => {
    h.ctx.settings = { ...h.ctx.settings, replaceWithinMs: 10_000 };
    const ids = await devices(supplierA, 2 + free);
    const customer = await createCustomer(h.ctx.db, 10_000_000n);
    const start = h.clock.ms;
    const cluster = await rent(customer, 2);
    const jobs = await jobsOf(h.ctx.db, [cluster.id]);
    for (const j of jobs) h.live.add(j.device_id);
    for (const j of jobs) await report(j, "running");
    await tickTo(start, 1000);
    const [stay, drop] = jobs;
    h.live.delete(drop!.device_id);
    // At 4.1 s the dropped device and the free ones were last seen more than lostAfterMs (3 s) ago.
    await tickTo(start, 2000);
    await tickTo(start, 4100);
    const spare = ids.filter((id) => !jobs.some((j) => j.device_id === id));
    return { customer, start, cluster, stay: stay!, drop: drop!, spare };
  };
  const view = async (clusterId: string) => {
    const [v] = await clusterViews(h.ctx.db, [(await findCluster(h.ctx.db, clusterId))!]);
    return v!;
  };

  it("lets a lost rank wait for a device that blinked, and hires it as soon as it is seen again", async () => {
    const { customer, start, cluster, stay, drop, spare } = await rentAndDrop(1);
    expect(await runLifecycle(h.ctx, 1000)).toMatchObject({ lost: 1, replaced: 0 });
    // No device was fresh: the rank waits, nothing is refunded, and the customer sees until when.
    const waiting = await view(cluster.id);
    expect(waiting).toMatchObject({ status: "running", escrow: { refunded: "0" } });
    expect(waiting.devices.find((d) => d.jobId === drop.id)).toMatchObject({
      state: "lost",
      awaitingReplacementUntil: new Date(start + 4100 + 10_000).toISOString(),
    });
    // Still nobody at 6 s; the spare heartbeats at 7 s and the next pass hires it for the rank.
    h.clock.ms = start + 6000;
    expect(await runLifecycle(h.ctx, 1000)).toMatchObject({ lost: 0, replaced: 0 });
    h.clock.ms = start + 7000;
    h.live.add(spare[0]!);
    await heartbeat(h, [spare[0]!]);
    h.sent.length = 0;
    expect(await runLifecycle(h.ctx, 1000)).toMatchObject({ replaced: 1 });
    const replacement = (await jobsOf(h.ctx.db, [cluster.id])).find((j) => j.replaces === drop.id)!;
    expect(replacement).toMatchObject({
      rank: drop.rank,
      device_id: spare[0],
      state: "assigned",
      active: true,
    });
    expect(h.sent).toEqual([
      { deviceId: spare[0], message: expect.objectContaining({ type: "job.start", jobId: replacement.id }) },
    ]);
    expect((await view(cluster.id)).devices.find((d) => d.jobId === drop.id)).toMatchObject({
      awaitingReplacementUntil: null,
    });
    await report(replacement, "running");
    await tickTo(start, 8000);
    await report(replacement, "exited");
    await report(stay, "exited");
    const done = await view(cluster.id);
    expect(done.status).toBe("completed");
    // The wait was not billed: the rank paid for the lost device's minutes and the replacement's, no more.
    expect(BigInt(done.escrow.charged)).toBe(done.devices.reduce((a, d) => a + BigInt(d.charged), 0n));
    expect(BigInt(done.escrow.refunded)).toBe(2_400_000n - BigInt(done.escrow.charged));
    expect(await balanceOf(h.ctx.db, marketAccounts.customer(customer))).toBe(
      10_000_000n - BigInt(done.escrow.charged),
    );
    expect((await balances(customer, cluster.id)).escrow).toBe(0n);
    await expectBalancedLedger(h.ctx.db);
  });

  it("refunds a waiting rank when no device comes in time, and keeps the cluster open until then", async () => {
    const { customer, start, cluster, stay, drop } = await rentAndDrop(0);
    expect(await runLifecycle(h.ctx, 1000)).toMatchObject({ lost: 1 });
    // The other rank ends; the cluster stays open while a rank still waits for a device.
    await report(stay, "exited");
    h.live.delete(stay.device_id);
    expect(await view(cluster.id)).toMatchObject({ status: "running", endedAt: null });
    h.clock.ms = start + 4100 + 10_000;
    expect(await runLifecycle(h.ctx, 1000)).toMatchObject({ replaced: 0 });
    const closed = await view(cluster.id);
    expect(closed).toMatchObject({ status: "failed", escrow: { remaining: "0" } });
    expect(closed.devices.find((d) => d.jobId === drop.id)).toMatchObject({
      state: "lost",
      awaitingReplacementUntil: null,
    });
    expect(BigInt(closed.escrow.refunded)).toBe(2_400_000n - BigInt(closed.escrow.charged));
    expect((await balances(customer, cluster.id)).escrow).toBe(0n);
    await expectBalancedLedger(h.ctx.db);
  });

  it("refunds a waiting rank at once when the customer cancels or the rental ends", async () => {
    const first = await rentAndDrop(0);
    await runLifecycle(h.ctx, 1000);
    const cancelled = await cancelCluster(h.ctx, first.cluster.id);
    expect(cancelled).toMatchObject({ status: "cancelled", settled_at: expect.any(Date) });
    expect((await view(first.cluster.id)).escrow.remaining).toBe("0");

    model++;
    const second = await rentAndDrop(0);
    await runLifecycle(h.ctx, 1000);
    h.clock.ms = second.start + 3_600_000;
    await heartbeat(h, [second.stay.device_id]);
    expect(await runLifecycle(h.ctx, 1000)).toMatchObject({ ended: 1 });
    expect(await view(second.cluster.id)).toMatchObject({
      status: "failed",
      endReason: "rental_ended",
      escrow: { remaining: "0" },
    });
    await expectBalancedLedger(h.ctx.db);
  });
});
