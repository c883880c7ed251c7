import { sql } from "kysely";
import { MINUTES_PER_HOUR } from "./billing.js";
import { applyEffects } from "./job-dispatch.js";
import { finishJob, lockActiveJobs, lockCluster, lockWaitingJobs, settleWaitingRank } from "./job-finish.js";
import { type Effects, type MarketContext, noEffects, seenSince } from "./market-context.js";
import { minutesOf, settleJob } from "./settlement.js";

/** What one lifecycle pass did, for logs and tests. */
export interface LifecycleReport {
  ended: number;
  lost: number;
  /** Ranks that waited for a free device and got one in this pass. */
  replaced: number;
  settled: number;
  resent: number;
}

/**
 * One pass of the rental lifecycle (run by one replica at a time): ends rentals whose time is up, detects
 * devices that dropped or never started their job and replaces them (or lets the rank wait a while for a free
 * device, then refunds it), settles long rentals every 60 metered minutes, and re-sends start orders that have
 * not been acknowledged yet.
 */
export async function runLifecycle(ctx: MarketContext, resendAfterMs: number): Promise<LifecycleReport> {
  const effects = noEffects();
  const report = {
    ended: await endExpired(ctx, effects),
    lost: await replaceLost(ctx, effects),
    replaced: await replaceWaiting(ctx, effects),
    settled: 0,
    resent: 0,
  };
  report.settled = await settleHourly(ctx);
  const nowMs = ctx.now();
  const unstarted = await ctx.db
    .selectFrom("cluster_jobs")
    .select("id")
    .where("active", "=", true)
    .where("state", "=", "assigned")
    .where("assigned_at", "<", new Date(nowMs - resendAfterMs))
    .execute();
  effects.starts.push(...unstarted.map((j) => j.id));
  report.resent = unstarted.length;
  await applyEffects(ctx, effects);
  return report;
}

async function endExpired(ctx: MarketContext, effects: Effects): Promise<number> {
  const nowMs = ctx.now();
  const due = await ctx.db
    .selectFrom("clusters")
    .select("id")
    .where("settled_at", "is", null)
    .where("ends_at", "<=", new Date(nowMs))
    .execute();
  for (const { id } of due) {
    await ctx.db.transaction().execute(async (trx) => {
      const cluster = await lockCluster(trx, id);
      if (!cluster || cluster.settled_at) return;
      await trx
        .updateTable("clusters")
        .set({ end_reason: "rental_ended" })
        .where("id", "=", id)
        .where("end_reason", "is", null)
        .execute();
      cluster.end_reason ??= "rental_ended";
      for (const job of await lockActiveJobs(trx, id)) {
        effects.stops.push({ deviceId: job.device_id, jobId: job.id, reason: "rental_ended" });
        await finishJob(trx, ctx, cluster, job, { state: "stopped" }, effects, { replace: false });
      }
      for (const job of await lockWaitingJobs(trx, id)) {
        await settleWaitingRank(trx, ctx, cluster, job, effects, { giveUp: true });
      }
    });
  }
  return due.length;
}

/** Active jobs whose device left `hired`, stopped heartbeating, or never acknowledged its start order. */
async function replaceLost(ctx: MarketContext, effects: Effects): Promise<number> {
  const nowMs = ctx.now();
  const s = ctx.settings;
  const lost = await ctx.db
    .selectFrom("cluster_jobs as j")
    .innerJoin("devices as d", "d.id", "j.device_id")
    .select(["j.id", "j.cluster_id", "j.state", "d.status"])
    .where("j.active", "=", true)
    .where((eb) =>
      eb.or([
        eb("d.status", "!=", "hired"),
        eb("d.last_seen_at", "<", seenSince(ctx)),
        eb.and([
          eb("j.state", "=", "assigned"),
          eb("j.assigned_at", "<", new Date(nowMs - s.startTimeoutMs)),
        ]),
      ]),
    )
    .execute();
  for (const row of lost) {
    await ctx.db.transaction().execute(async (trx) => {
      const cluster = await lockCluster(trx, row.cluster_id);
      const job = (await lockActiveJobs(trx, row.cluster_id)).find((j) => j.id === row.id);
      if (!cluster || !job) return;
      const why =
        row.state === "assigned" && row.status === "hired" ? "never started" : `device ${row.status}`;
      effects.stops.push({ deviceId: job.device_id, jobId: job.id, reason: "reassigned" });
      await finishJob(trx, ctx, cluster, job, { state: "lost", error: `device lost (${why})` }, effects, {
        replace: true,
      });
    });
  }
  return lost.length;
}

/**
 * Ranks waiting for a free device: each gets one that is free now, waits on, or (its wait over) is refunded. A
 * device becomes free again when it heartbeats after a blink, or when another rental lets it go.
 */
async function replaceWaiting(ctx: MarketContext, effects: Effects): Promise<number> {
  const waiting = await ctx.db
    .selectFrom("cluster_jobs")
    .select(["id", "cluster_id"])
    .where("replace_until", "is not", null)
    .execute();
  let replaced = 0;
  for (const row of waiting) {
    await ctx.db.transaction().execute(async (trx) => {
      const cluster = await lockCluster(trx, row.cluster_id);
      const job = (await lockWaitingJobs(trx, row.cluster_id)).find((j) => j.id === row.id);
      if (!cluster || !job) return;
      const end = await settleWaitingRank(trx, ctx, cluster, job, effects, { giveUp: false });
      if (end === "replaced") replaced++;
    });
  }
  return replaced;
}

/** Settles running jobs with at least an hour of unsettled metered minutes. */
async function settleHourly(ctx: MarketContext): Promise<number> {
  const candidates = await ctx.db
    .selectFrom("cluster_jobs as j")
    .select(["j.id", "j.cluster_id"])
    .where("j.active", "=", true)
    .where(
      sql<boolean>`(select count(*) from cluster_minutes m where m.job_id = j.id) - j.settled_minutes >= ${Number(MINUTES_PER_HOUR)}`,
    )
    .execute();
  for (const c of candidates) {
    await ctx.db.transaction().execute(async (trx) => {
      const cluster = await lockCluster(trx, c.cluster_id);
      const job = (await lockActiveJobs(trx, c.cluster_id)).find((j) => j.id === c.id);
      if (!cluster || !job) return;
      if ((await minutesOf(trx, job.id)) - job.settled_minutes >= Number(MINUTES_PER_HOUR)) {
        await settleJob(trx, cluster, job);
      }
    });
  }
  return candidates.length;
}
