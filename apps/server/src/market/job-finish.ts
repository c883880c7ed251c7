import { IgnisError, type JobState } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import { returnToPool } from "../devices/hiring.js";
import {
  CLUSTER_COLUMNS,
  type ClusterRow,
  type JobRow,
  normalizeCluster,
  normalizeJob,
} from "./cluster-view.js";
import type { Effects, MarketContext } from "./market-context.js";
import { rankCandidates, reserveDevices, schedulingOptions } from "./scheduler.js";
import { closeClusterIfDone, refundRank, settleJob } from "./settlement.js";

/** How a job ended. */
export interface JobOutcome {
  state: Extract<JobState, "exited" | "failed" | "stopped" | "lost">;
  exitCode?: number | null;
  error?: string | null;
}

/**
 * Locks a cluster row; every market writer locks the cluster first, then its jobs in id order. The lock is
 * FOR NO KEY UPDATE: it excludes other market writers but not the key-share locks that foreign-key checks of
 * log and minute inserts take, which would otherwise deadlock against a job row held by the inserter.
 */
export async function lockCluster(trx: Db, clusterId: string): Promise<ClusterRow | undefined> {
  const row = await trx
    .selectFrom("clusters")
    .select(CLUSTER_COLUMNS)
    .where("id", "=", clusterId)
    .forNoKeyUpdate()
    .executeTakeFirst();
  return row && normalizeCluster(row);
}

/** Locks and reads the active jobs of a cluster (after its row is locked). */
export function lockActiveJobs(trx: Db, clusterId: string): Promise<JobRow[]> {
  return lockJobs(trx, clusterId, "active");
}

/** Locks and reads the lost jobs of a cluster whose ranks wait for a replacement (after its row is locked). */
export function lockWaitingJobs(trx: Db, clusterId: string): Promise<JobRow[]> {
  return lockJobs(trx, clusterId, "waiting");
}

/** The cluster's active or waiting jobs, locked in id order (the market's lock order). */
async function lockJobs(trx: Db, clusterId: string, which: "active" | "waiting"): Promise<JobRow[]> {
  const rows = await trx
    .selectFrom("cluster_jobs")
    .selectAll()
    .where("cluster_id", "=", clusterId)
    .$if(which === "active", (q) => q.where("active", "=", true))
    .$if(which === "waiting", (q) => q.where("replace_until", "is not", null))
    .orderBy("id")
    .forNoKeyUpdate()
    .execute();
  return rows.map(normalizeJob);
}

/**
 * Ends one job: settles its metered minutes, releases its device, and then either hires a replacement for the
 * rank (when the device was lost and the rental still runs), leaves the rank waiting for one (no device is free
 * now: see {@link settleWaitingRank}), or refunds the rank's unused time. Closes the cluster when it was the last
 * active job and no rank waits. Call inside a transaction holding the cluster and job locks.
 */
export async function finishJob(
  trx: Db,
  ctx: MarketContext,
  cluster: ClusterRow,
  job: JobRow,
  outcome: JobOutcome,
  effects: Effects,
  options: { replace: boolean },
): Promise<void> {
  if (!job.active) return;
  const nowMs = ctx.now();
  await settleJob(trx, cluster, job);
  await trx
    .updateTable("cluster_jobs")
    .set({
      state: outcome.state,
      active: false,
      exit_code: outcome.exitCode ?? null,
      error: outcome.error ?? null,
      ended_at: new Date(nowMs),
    })
    .where("id", "=", job.id)
    .execute();
  // Back to the pool. A device that really dropped is already offline (its session closed), and a silent one
  // is not scheduled again until it heartbeats: the scheduler only picks devices seen recently.
  await returnToPool(trx, job.device_id);
  const endsAtMs = new Date(cluster.ends_at).getTime();
  if (options.replace && outcome.state === "lost" && nowMs < endsAtMs) {
    if (await hireReplacement(trx, ctx, cluster, job, effects)) return;
    if (ctx.settings.replaceWithinMs > 0) {
      const until = new Date(Math.min(nowMs + ctx.settings.replaceWithinMs, endsAtMs));
      await trx.updateTable("cluster_jobs").set({ replace_until: until }).where("id", "=", job.id).execute();
      ctx.log.info(
        { clusterId: cluster.id, rank: job.rank, lost: job.device_id, until: until.toISOString() },
        "rank waits for a free device",
      );
      return;
    }
  }
  await refundRank(trx, cluster, job.rank);
  await closeClusterIfDone(trx, cluster.id, nowMs);
}

/**
 * Ends the wait of a rank whose device was lost when no other was free: hires a device that is free now, or,
 * once the wait is over (or the rental ended, was cancelled, or `giveUp`), refunds the rank's unused time and
 * closes the cluster if nothing else runs. Nothing is charged for the wait: no device ran the rank. Call inside a
 * transaction holding the cluster lock and the job's.
 */
export async function settleWaitingRank(
  trx: Db,
  ctx: MarketContext,
  cluster: ClusterRow,
  job: JobRow,
  effects: Effects,
  options: { giveUp: boolean },
): Promise<"replaced" | "waiting" | "refunded"> {
  if (job.replace_until === null) return "refunded";
  const nowMs = ctx.now();
  const waitsOn =
    !options.giveUp &&
    cluster.end_reason === null &&
    nowMs < new Date(job.replace_until).getTime() &&
    nowMs < new Date(cluster.ends_at).getTime();
  if (waitsOn && !(await hireReplacement(trx, ctx, cluster, job, effects))) return "waiting";
  await trx.updateTable("cluster_jobs").set({ replace_until: null }).where("id", "=", job.id).execute();
  if (waitsOn) return "replaced";
  await refundRank(trx, cluster, job.rank);
  await closeClusterIfDone(trx, cluster.id, nowMs);
  return "refunded";
}

/** Hires one device for a lost rank, at no more than the rate the escrow was sized for. */
async function hireReplacement(
  trx: Db,
  ctx: MarketContext,
  cluster: ClusterRow,
  lost: JobRow,
  effects: Effects,
): Promise<boolean> {
  const ranked = await rankCandidates(
    trx,
    {
      gpuModel: cluster.gpu_model,
      region: cluster.region,
      countries: cluster.countries?.split(",") ?? null,
      excludeCountries: cluster.exclude_countries?.split(",") ?? null,
      minTier: cluster.min_tier,
      requireProvenMemory: cluster.require_proven_memory,
      maxPricePerGpuHour: cluster.max_price_per_hour === null ? null : BigInt(cluster.max_price_per_hour),
      maxRatePerHour: BigInt(cluster.hold_price_per_hour),
      allowUnsandboxed: cluster.job.allowUnsandboxed === true,
    },
    schedulingOptions(ctx),
  );
  // A device this rental already lost (it dropped, or never started its job) is not hired again for it.
  const lostHere = await trx
    .selectFrom("cluster_jobs")
    .select("device_id")
    .where("cluster_id", "=", cluster.id)
    .where("state", "=", "lost")
    .execute();
  const tried = new Set(lostHere.map((j) => j.device_id));
  const fresh = ranked.filter((c) => !tried.has(c.deviceId));
  const pending = { seconds: ctx.settings.stakePendingSeconds, nowMs: ctx.now() };
  const [chosen] = await reserveDevices(trx, fresh, 1, ctx.settings.stakePerGpu, pending).catch(
    (error: unknown) => {
      if (error instanceof IgnisError && error.code === "no_capacity") return [];
      throw error;
    },
  );
  if (!chosen) return false;
  const id = newId("job");
  await trx
    .insertInto("cluster_jobs")
    .values({
      id,
      cluster_id: cluster.id,
      rank: lost.rank,
      device_id: chosen.deviceId,
      supplier_id: chosen.ownerId,
      price_per_hour: chosen.ratePerHour.toString(),
      state: "assigned",
      replaces: lost.id,
    })
    .execute();
  effects.starts.push(id);
  ctx.log.info(
    { clusterId: cluster.id, rank: lost.rank, lost: lost.device_id, replacement: chosen.deviceId },
    "rank replaced",
  );
  return true;
}
