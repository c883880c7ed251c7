import { IgnisError } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { balanceOf } from "../ledger/balances.js";
import { settlementStep } from "./billing.js";
import type { ClusterRow, JobRow } from "./cluster-view.js";
import { marketAccounts, payFromEscrow, refundFromEscrow } from "./escrow.js";

/** Metered minutes of one job. */
export async function minutesOf(trx: Db, jobId: string): Promise<number> {
  const row = await trx
    .selectFrom("cluster_minutes")
    .select(sql<string>`count(*)::text`.as("n"))
    .where("job_id", "=", jobId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Settles a job up to its metered minutes: the charge for the new minutes moves from escrow to the supplier,
 * less the network's fee. Amounts are differences of running totals, so any number of steps (hourly, then
 * final) sums to exactly one settlement of the total. Call with the cluster and job rows locked.
 */
export async function settleJob(trx: Db, cluster: ClusterRow, job: JobRow): Promise<bigint> {
  const metered = await minutesOf(trx, job.id);
  if (metered <= job.settled_minutes) return 0n;
  const step = settlementStep(BigInt(job.price_per_hour), cluster.fee_bps, job.settled_minutes, metered);
  await payFromEscrow(trx, {
    clusterId: cluster.id,
    jobId: job.id,
    supplierId: job.supplier_id,
    step,
    uptoMinutes: metered,
  });
  await trx
    .updateTable("cluster_jobs")
    .set({
      settled_minutes: metered,
      settled_amount: sql`settled_amount + ${step.charge.toString()}::bigint`,
      settled_fee: sql`settled_fee + ${step.fee.toString()}::bigint`,
    })
    .where("id", "=", job.id)
    .where("settled_minutes", "=", job.settled_minutes)
    .execute();
  await trx
    .updateTable("clusters")
    .set({
      charged: sql`charged + ${step.charge.toString()}::bigint`,
      fees: sql`fees + ${step.fee.toString()}::bigint`,
    })
    .where("id", "=", cluster.id)
    .execute();
  job.settled_minutes = metered;
  return step.charge;
}

/**
 * Refunds a finished rank's unused time: its share of the escrow (the hold rate for every hour of the rental)
 * minus what its jobs were charged. Called once per rank, when it ends without a replacement.
 */
export async function refundRank(trx: Db, cluster: ClusterRow, rank: number): Promise<bigint> {
  const row = await trx
    .selectFrom("cluster_jobs")
    .select(sql<string>`coalesce(sum(settled_amount), 0)::text`.as("charged"))
    .where("cluster_id", "=", cluster.id)
    .where("rank", "=", rank)
    .executeTakeFirstOrThrow();
  const share = BigInt(cluster.hold_price_per_hour) * BigInt(cluster.hours);
  const refund = share - BigInt(row.charged);
  if (refund < 0n)
    throw new IgnisError("internal", "settlement: a rank was charged more than its escrow share");
  await refundFromEscrow(trx, {
    clusterId: cluster.id,
    customerId: cluster.customer_id,
    amount: refund,
    reference: `rank:${rank}`,
  });
  await trx
    .updateTable("clusters")
    .set({ refunded: sql`refunded + ${refund.toString()}::bigint` })
    .where("id", "=", cluster.id)
    .execute();
  return refund;
}

/**
 * Closes a cluster once no rank has an active job or waits for a replacement: its status follows the ranks' last
 * jobs (cancelled when the customer cancelled; failed when a rank's last job failed, exited non-zero or lost its
 * device; otherwise completed). The escrow must then be exactly empty.
 */
export async function closeClusterIfDone(trx: Db, clusterId: string, nowMs: number): Promise<boolean> {
  const jobs = await trx
    .selectFrom("cluster_jobs")
    .select(["rank", "state", "active", "exit_code", "assigned_at", "replace_until"])
    .where("cluster_id", "=", clusterId)
    .orderBy("assigned_at")
    .execute();
  if (jobs.some((j) => j.active || j.replace_until !== null)) return false;
  const cluster = await trx
    .selectFrom("clusters")
    .select(["status", "end_reason", "settled_at"])
    .where("id", "=", clusterId)
    .executeTakeFirstOrThrow();
  if (cluster.settled_at) return false;
  const last = new Map<number, (typeof jobs)[number]>();
  for (const j of jobs) last.set(j.rank, j);
  const ok = [...last.values()].every(
    (j) => j.state === "stopped" || (j.state === "exited" && j.exit_code === 0),
  );
  const status = cluster.end_reason === "cancelled" ? "cancelled" : ok ? "completed" : "failed";
  const left = await balanceOf(trx, marketAccounts.escrow(clusterId));
  if (left !== 0n) {
    throw new IgnisError("internal", "settlement: a closed cluster's escrow must be empty", {
      details: { clusterId, left: left.toString() },
    });
  }
  const at = new Date(nowMs);
  await trx
    .updateTable("clusters")
    .set({ status, ended_at: at, settled_at: at, end_reason: cluster.end_reason ?? "jobs_finished" })
    .where("id", "=", clusterId)
    .execute();
  return true;
}
