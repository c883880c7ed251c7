import type { Db } from "../db/database.js";
import type { MarketContext } from "./market-context.js";

/** The billing minute of an instant within a rental, or null outside the rental's window. */
export function billingMinute(
  nowMs: number,
  cluster: { starts_at: Date; ends_at: Date; billing_minute_ms: number },
): number | null {
  const start = new Date(cluster.starts_at).getTime();
  if (nowMs < start || nowMs >= new Date(cluster.ends_at).getTime()) return null;
  return Math.floor((nowMs - start) / cluster.billing_minute_ms);
}

/**
 * Records that a job's rank used its device in a billing minute. Idempotent per (cluster, rank, minute): two
 * replicas, a retry, or a replacement device in the same minute never bill a minute twice.
 */
export async function recordMinute(
  trx: Db,
  job: { id: string; cluster_id: string; rank: number; device_id: string },
  minute: number,
): Promise<void> {
  await trx
    .insertInto("cluster_minutes")
    .values({ cluster_id: job.cluster_id, rank: job.rank, minute, job_id: job.id, device_id: job.device_id })
    .onConflict((oc) => oc.columns(["cluster_id", "rank", "minute"]).doNothing())
    .execute();
}

/**
 * Meters the running jobs whose devices hold a live session on this replica: each gets the current billing
 * minute. Every replica meters its own sessions, so a device is metered by the replica that hears its
 * heartbeats. The jobs are locked (in id order) so a job being settled and closed is never metered after.
 */
export async function meterLiveJobs(ctx: MarketContext): Promise<number> {
  const candidates = await ctx.db
    .selectFrom("cluster_jobs")
    .select(["id", "device_id"])
    .where("active", "=", true)
    .where("state", "=", "running")
    .execute();
  const live = candidates.filter((j) => ctx.channel.isLive(j.device_id)).map((j) => j.id);
  if (live.length === 0) return 0;
  const nowMs = ctx.now();
  return ctx.db.transaction().execute(async (trx) => {
    const jobs = await trx
      .selectFrom("cluster_jobs as j")
      .innerJoin("clusters as c", "c.id", "j.cluster_id")
      .select([
        "j.id",
        "j.cluster_id",
        "j.rank",
        "j.device_id",
        "c.starts_at",
        "c.ends_at",
        "c.billing_minute_ms",
      ])
      .where("j.id", "in", live)
      .where("j.active", "=", true)
      .orderBy("j.id")
      .forNoKeyUpdate("j")
      .execute();
    let metered = 0;
    for (const job of jobs) {
      const minute = billingMinute(nowMs, job);
      if (minute === null) continue;
      await recordMinute(trx, job, minute);
      metered++;
    }
    return metered;
  });
}
