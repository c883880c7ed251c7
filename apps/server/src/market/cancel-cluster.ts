import { IgnisError } from "@ignis/protocol";
import { type ClusterRow, findCluster } from "./cluster-view.js";
import { applyEffects } from "./job-dispatch.js";
import { finishJob, lockActiveJobs, lockCluster, lockWaitingJobs, settleWaitingRank } from "./job-finish.js";
import { type ClusterTransaction, type MarketContext, noEffects } from "./market-context.js";

/**
 * Cancels a cluster: every active job is stopped and settled for the minutes it used, the unused time goes
 * back to the customer, and the devices return to the pool. A cluster that has already ended cannot be
 * cancelled (`cluster_not_cancellable`). The caller has checked that the actor may cancel it.
 */
export async function cancelCluster(
  ctx: MarketContext,
  clusterId: string,
  run: ClusterTransaction = (work) => ctx.db.transaction().execute(work),
): Promise<ClusterRow> {
  const effects = noEffects();
  const cancelled = await run(async (trx) => {
    const cluster = await lockCluster(trx, clusterId);
    if (!cluster) throw new IgnisError("not_found", "no such object");
    if (cluster.settled_at) {
      throw new IgnisError("cluster_not_cancellable", `the cluster has already ended (${cluster.status})`, {
        details: { status: cluster.status },
      });
    }
    await trx.updateTable("clusters").set({ end_reason: "cancelled" }).where("id", "=", clusterId).execute();
    cluster.end_reason = "cancelled";
    for (const job of await lockActiveJobs(trx, clusterId)) {
      effects.stops.push({ deviceId: job.device_id, jobId: job.id, reason: "cancelled" });
      await finishJob(trx, ctx, cluster, job, { state: "stopped" }, effects, { replace: false });
    }
    for (const job of await lockWaitingJobs(trx, clusterId)) {
      await settleWaitingRank(trx, ctx, cluster, job, effects, { giveUp: true });
    }
    const after = await findCluster(trx, clusterId);
    if (!after) throw new IgnisError("internal", "a cancelled cluster vanished");
    return after;
  });
  await applyEffects(ctx, effects);
  return (await findCluster(ctx.db, clusterId)) ?? cancelled;
}
