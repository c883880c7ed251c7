import type { JobLogMessage, JobStatusMessage } from "@ignis/protocol";
import { sql } from "kysely";
import { normalizeJob } from "./cluster-view.js";
import { applyEffects } from "./job-dispatch.js";
import { finishJob, lockCluster } from "./job-finish.js";
import { type Effects, type MarketContext, noEffects } from "./market-context.js";
import { billingMinute, recordMinute } from "./metering.js";

/**
 * Applies a worker's report on one of its jobs. A device may report only on jobs it was hired for; reports on
 * another device's job, on an unknown job or on a job already closed change nothing. `stopped` that nobody asked
 * for (the worker shut down mid-rental) counts as a lost device, so the rank is replaced.
 */
export async function applyJobStatus(
  ctx: MarketContext,
  deviceId: string,
  message: JobStatusMessage,
): Promise<void> {
  const owner = await ctx.db
    .selectFrom("cluster_jobs")
    .select(["cluster_id"])
    .where("id", "=", message.jobId)
    .where("device_id", "=", deviceId)
    .executeTakeFirst();
  if (!owner) {
    ctx.log.warn({ deviceId, jobId: message.jobId }, "job report for a job this device does not hold");
    return;
  }
  if (message.alert) {
    // The worker found part of a job alive after its end and killed it: its sandbox did not hold.
    ctx.log.error(
      { deviceId, jobId: message.jobId, clusterId: owner.cluster_id, alert: message.alert },
      "sandbox alert: a job outlived its end on the device",
    );
  }
  const effects: Effects = noEffects();
  await ctx.db.transaction().execute(async (trx) => {
    const cluster = await lockCluster(trx, owner.cluster_id);
    const row = await trx
      .selectFrom("cluster_jobs")
      .selectAll()
      .where("id", "=", message.jobId)
      .forNoKeyUpdate()
      .executeTakeFirst();
    if (!cluster || !row?.active) return;
    const job = normalizeJob(row);
    const nowMs = ctx.now();
    const minute = billingMinute(nowMs, cluster);
    if (message.state === "starting") {
      // The worker took the order and is preparing the job (pulling a large image can take minutes): it is no
      // longer a start that nobody acknowledged.
      if (job.state !== "assigned") return;
      await trx.updateTable("cluster_jobs").set({ state: "starting" }).where("id", "=", job.id).execute();
      return;
    }
    if (message.state === "running") {
      if (job.state !== "assigned" && job.state !== "starting") return;
      await trx
        .updateTable("cluster_jobs")
        .set({ state: "running", started_at: new Date(nowMs), runner: message.runner ?? null })
        .where("id", "=", job.id)
        .execute();
      if (minute !== null) await recordMinute(trx, job, minute);
      const waiting = await trx
        .selectFrom("cluster_jobs")
        .select(sql<string>`count(*)::text`.as("n"))
        .where("cluster_id", "=", cluster.id)
        .where("active", "=", true)
        .where("state", "in", ["assigned", "starting"])
        .executeTakeFirstOrThrow();
      if (Number(waiting.n) === 0 && cluster.status === "pending") {
        await trx.updateTable("clusters").set({ status: "running" }).where("id", "=", cluster.id).execute();
      }
      return;
    }
    // The minute in which a running job ended was used too.
    if (job.state === "running" && minute !== null) await recordMinute(trx, job, minute);
    const unasked = message.state === "stopped" && cluster.end_reason === null && minute !== null;
    await finishJob(
      trx,
      ctx,
      cluster,
      job,
      unasked
        ? { state: "lost", error: "the worker stopped the job on its own" }
        : {
            state: message.state,
            exitCode: message.exitCode ?? null,
            error: message.error ?? (message.signal ? `signal ${message.signal}` : null),
          },
      effects,
      { replace: unasked },
    );
  });
  await applyEffects(ctx, effects);
}

/**
 * Stores a chunk of a job's output, if the reporting device holds the job and the job's log has room. The byte
 * count and the insert share one statement's condition, so the cap holds under concurrent chunks.
 */
export async function appendJobLog(
  ctx: MarketContext,
  deviceId: string,
  message: JobLogMessage,
): Promise<boolean> {
  const size = Buffer.byteLength(message.data);
  return ctx.db.transaction().execute(async (trx) => {
    const job = await trx
      .updateTable("cluster_jobs")
      .set({ log_bytes: sql`log_bytes + ${size}` })
      .where("id", "=", message.jobId)
      .where("device_id", "=", deviceId)
      .where(sql<boolean>`log_bytes + ${size} <= ${ctx.settings.logMaxBytesPerJob}`)
      .returning(["cluster_id", "rank"])
      .executeTakeFirst();
    if (!job) return false;
    const inserted = await trx
      .insertInto("cluster_logs")
      .values({
        cluster_id: job.cluster_id,
        job_id: message.jobId,
        rank: job.rank,
        seq: message.seq,
        stream: message.stream,
        data: message.data,
      })
      .onConflict((oc) => oc.columns(["job_id", "seq"]).doNothing())
      .returning("id")
      .executeTakeFirst();
    if (inserted) return true;
    // A redelivered chunk: it was counted when it first arrived.
    await trx
      .updateTable("cluster_jobs")
      .set({ log_bytes: sql`log_bytes - ${size}` })
      .where("id", "=", message.jobId)
      .execute();
    return false;
  });
}
