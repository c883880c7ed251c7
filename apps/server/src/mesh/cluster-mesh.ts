import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import type { NebulaCertTool } from "./nebula-cert.js";
import { MAX_SLOT } from "./overlay-addresses.js";

/** A cluster's overlay as stored: its slot and its CA. */
export interface ClusterMeshRow {
  cluster_id: string;
  slot: number;
  ca_cert: string;
  ca_key: string;
  ca_fingerprint: string;
}

/** The stored overlay of a cluster, if it has one. */
export async function findClusterMesh(db: Db, clusterId: string): Promise<ClusterMeshRow | undefined> {
  return db
    .selectFrom("cluster_meshes")
    .select(["cluster_id", "slot", "ca_cert", "ca_key", "ca_fingerprint"])
    .where("cluster_id", "=", clusterId)
    .executeTakeFirst();
}

/**
 * The overlay of a cluster, made on first use: a CA of its own (valid until the rental ends, plus an hour) and
 * the lowest free subnet slot. Two replicas making it at once agree on one row: the insert does nothing on a
 * taken cluster or slot, and the loser reads the winner's row or tries the next free slot.
 */
export async function ensureClusterMesh(
  db: Db,
  tool: NebulaCertTool,
  cluster: { id: string; endsAt: number },
  now: number,
): Promise<ClusterMeshRow> {
  const existing = await findClusterMesh(db, cluster.id);
  if (existing) return existing;
  const ca = await tool.createCa(`ignis ${cluster.id}`, Math.max(60, (cluster.endsAt - now) / 1000) + 3600);
  for (let attempt = 0; attempt < 8; attempt++) {
    const taken = new Set(
      (await db.selectFrom("cluster_meshes").select("slot").execute()).map((r) => r.slot),
    );
    let slot = 1;
    while (slot <= MAX_SLOT && taken.has(slot)) slot++;
    if (slot > MAX_SLOT) throw new IgnisError("unavailable", "every overlay subnet is in use");
    await db
      .insertInto("cluster_meshes")
      .values({
        cluster_id: cluster.id,
        slot,
        ca_cert: ca.cert,
        ca_key: ca.key,
        ca_fingerprint: ca.fingerprint,
        created_at: new Date(now),
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const row = await findClusterMesh(db, cluster.id);
    if (row) return row;
  }
  throw new IgnisError("unavailable", "no overlay subnet could be reserved");
}

/**
 * Forgets the overlays of clusters that ended: their CAs (keys included) and measured links go, so no new host
 * can ever join them and the lighthouse stops trusting them. Returns how many were removed.
 */
export async function forgetEndedMeshes(db: Db): Promise<number> {
  const result = await db
    .deleteFrom("cluster_meshes")
    .where("cluster_id", "in", (eb) =>
      eb.selectFrom("clusters").select("id").where("status", "not in", ["pending", "running"]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The CA certificates of every open cluster's overlay (the lighthouse trusts these). */
export async function openMeshCas(db: Db): Promise<string[]> {
  const rows = await db.selectFrom("cluster_meshes").select("ca_cert").orderBy("slot").execute();
  return rows.map((r) => r.ca_cert);
}
