import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import type { ClusterRow } from "./cluster-view.js";

/** The job of one rank that runs now, and the device it runs on. */
export interface RunningRank {
  clusterId: string;
  rank: number;
  jobId: string;
  deviceId: string;
}

/**
 * The job a customer may get into: rank `rank` of a running cluster, whose current job is running. A rank that is
 * not one of the cluster's is `rank_out_of_range`; a cluster (or rank) that is not running is
 * `cluster_not_running`. The caller has already checked that the cluster is the customer's.
 */
export async function runningRank(db: Db, cluster: ClusterRow, rankText: string): Promise<RunningRank> {
  const rank = /^\d{1,6}$/.test(rankText) ? Number(rankText) : Number.NaN;
  if (!Number.isInteger(rank) || rank < 0 || rank >= cluster.count) {
    throw new IgnisError(
      "rank_out_of_range",
      `this cluster has ranks 0 to ${cluster.count - 1}; '${rankText.slice(0, 12)}' is not one of them`,
      { details: { ranks: cluster.count } },
    );
  }
  if (cluster.status !== "running") {
    throw new IgnisError("cluster_not_running", `the cluster is ${cluster.status}, not running`, {
      details: { status: cluster.status },
    });
  }
  const job = await db
    .selectFrom("cluster_jobs")
    .select(["id", "device_id", "state"])
    .where("cluster_id", "=", cluster.id)
    .where("rank", "=", rank)
    .where("active", "=", true)
    .orderBy("assigned_at", "desc")
    .executeTakeFirst();
  if (job?.state !== "running") {
    throw new IgnisError(
      "cluster_not_running",
      `rank ${rank} is ${job ? job.state : "not assigned"}, not running`,
      { details: { rank, state: job?.state ?? null } },
    );
  }
  return { clusterId: cluster.id, rank, jobId: job.id, deviceId: job.device_id };
}
