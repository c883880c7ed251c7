import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { CLUSTER_COLUMNS, type ClusterRow, normalizeCluster } from "./cluster-view.js";

/** A page of a customer's clusters, newest first, and the cursor of the next page. */
export interface ClusterPage {
  items: ClusterRow[];
  nextCursor: string | null;
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [ms, id] = cursor.split("_cls_");
  const at = new Date(Number(ms));
  if (!id || Number.isNaN(at.getTime())) throw new IgnisError("bad_request", "the cursor is not valid");
  return { at, id: `cls_${id}` };
}

/** The customer's clusters, newest first, with a (created_at, id) keyset cursor. */
export async function listClusters(
  db: Db,
  customerId: string,
  limit: number,
  cursor?: string,
): Promise<ClusterPage> {
  let q = db
    .selectFrom("clusters")
    .select(CLUSTER_COLUMNS)
    .where("customer_id", "=", customerId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(limit);
  if (cursor) {
    const c = decodeCursor(cursor);
    q = q.where((eb) =>
      eb.or([eb("created_at", "<", c.at), eb.and([eb("created_at", "=", c.at), eb("id", "<", c.id)])]),
    );
  }
  const items = (await q.execute()).map(normalizeCluster);
  const last = items.at(-1);
  return {
    items,
    nextCursor: items.length === limit && last ? `${new Date(last.created_at).getTime()}_${last.id}` : null,
  };
}

/** One stored chunk of a job's output. */
export interface LogLine {
  seq: number;
  jobId: string;
  rank: number;
  stream: "stdout" | "stderr" | "system";
  data: string;
  at: string;
}

/** A cluster's logs in arrival order after a cursor, optionally for one rank; the cursor follows new output. */
export async function clusterLogs(
  db: Db,
  clusterId: string,
  options: { after?: string | undefined; rank?: number | undefined; limit: number },
): Promise<{ items: LogLine[]; nextCursor: string | null }> {
  let q = db
    .selectFrom("cluster_logs")
    .select(["id", "seq", "job_id", "rank", "stream", "data", "at"])
    .where("cluster_id", "=", clusterId)
    .orderBy("id")
    .limit(options.limit);
  if (options.after) {
    if (!/^\d{1,19}$/.test(options.after)) throw new IgnisError("bad_request", "the cursor is not valid");
    q = q.where("id", ">", options.after);
  }
  if (options.rank !== undefined) q = q.where("rank", "=", options.rank);
  const rows = await q.execute();
  return {
    items: rows.map((r) => ({
      seq: r.seq,
      jobId: r.job_id,
      rank: r.rank,
      stream: r.stream,
      data: r.data,
      at: new Date(r.at).toISOString(),
    })),
    // Always a cursor (the last id seen, or the one given): a follower polls with it for what comes next.
    nextCursor: rows.length > 0 ? String(rows.at(-1)!.id) : (options.after ?? null),
  };
}
