import { type ClusterNetworkView, IgnisError, type MeshLinksMessage } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { findClusterMesh } from "./cluster-mesh.js";
import { rankAddr, slotSubnet } from "./overlay-addresses.js";

/**
 * Stores what one rank measured over its cluster's overlay. Only the device that runs the job, while the job is
 * active and its cluster open with an overlay, may report for it; links to ranks outside the cluster or to
 * itself are dropped. Returns how many links were stored.
 */
export async function recordMeshLinks(
  db: Db,
  deviceId: string,
  message: MeshLinksMessage,
  now: number,
): Promise<number> {
  const job = await db
    .selectFrom("cluster_jobs as j")
    .innerJoin("clusters as c", "c.id", "j.cluster_id")
    .innerJoin("cluster_meshes as m", "m.cluster_id", "j.cluster_id")
    .select(["j.cluster_id", "j.rank", "c.count"])
    .where("j.id", "=", message.jobId)
    .where("j.device_id", "=", deviceId)
    .where("j.active", "=", true)
    .where("c.status", "in", ["pending", "running"])
    .executeTakeFirst();
  if (!job) return 0;
  const rows = message.links
    .filter((l) => l.to !== job.rank && l.to < job.count)
    .map((l) => ({
      cluster_id: job.cluster_id,
      from_rank: job.rank,
      to_rank: l.to,
      rtt_ms: Math.round(l.rttMs * 1000) / 1000,
      mbps: Math.round(l.mbps * 10) / 10,
      path: l.path,
      measured_at: new Date(now),
    }));
  if (rows.length === 0) return 0;
  await db
    .insertInto("cluster_mesh_links")
    .values(rows)
    .onConflict((oc) =>
      oc.columns(["cluster_id", "from_rank", "to_rank"]).doUpdateSet((eb) => ({
        rtt_ms: eb.ref("excluded.rtt_ms"),
        mbps: eb.ref("excluded.mbps"),
        path: eb.ref("excluded.path"),
        measured_at: eb.ref("excluded.measured_at"),
      })),
    )
    .execute();
  return rows.length;
}

/**
 * A running cluster's overlay as its customer sees it: each rank's device and overlay address, and the links
 * the ranks measured (`from`/`to` are ranks). A cluster that is not running has no network to show
 * (`cluster_not_running`); one whose devices could not join an overlay has none either (`mesh_unavailable`).
 */
export async function clusterNetwork(
  db: Db,
  cluster: { id: string; status: string },
): Promise<ClusterNetworkView> {
  if (cluster.status !== "running" && cluster.status !== "pending") {
    throw new IgnisError("cluster_not_running", `the cluster is ${cluster.status}: its overlay is gone`, {
      details: { status: cluster.status },
    });
  }
  const mesh = await findClusterMesh(db, cluster.id);
  if (!mesh) {
    throw new IgnisError(
      "mesh_unavailable",
      "this cluster has no overlay: its devices cannot join one, or it has not started yet",
    );
  }
  const jobs = await db
    .selectFrom("cluster_jobs")
    .select(["rank", "device_id"])
    .where("cluster_id", "=", cluster.id)
    .where("active", "=", true)
    .orderBy("rank")
    .execute();
  const links = await db
    .selectFrom("cluster_mesh_links")
    .selectAll()
    .where("cluster_id", "=", cluster.id)
    .orderBy("from_rank")
    .orderBy("to_rank")
    .execute();
  return {
    clusterId: cluster.id,
    kind: "nebula",
    subnet: slotSubnet(mesh.slot),
    peers: jobs.map((j) => ({ rank: j.rank, deviceId: j.device_id, meshAddr: rankAddr(mesh.slot, j.rank) })),
    matrix: links.map((l) => ({
      from: l.from_rank,
      to: l.to_rank,
      rttMs: Number(l.rtt_ms),
      mbps: Number(l.mbps),
      path: l.path,
      measuredAt: new Date(l.measured_at).toISOString(),
    })),
  };
}
