import type { JobMesh } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { ensureClusterMesh, forgetEndedMeshes, openMeshCas } from "./cluster-mesh.js";
import type { Lighthouse } from "./lighthouse.js";
import type { NebulaCertTool } from "./nebula-cert.js";
import { LIGHTHOUSE_ADDR, MAX_MESH_RANKS, OVERLAY_PREFIX, rankAddr, slotPeers } from "./overlay-addresses.js";

/** A job about to get its start order, as the coordinator needs it. */
export interface MeshStart {
  jobId: string;
  clusterId: string;
  rank: number;
  count: number;
  headPort: number;
  endsAt: number;
}

/** The control plane as the coordinator of every cluster's overlay. */
export interface MeshCoordinator {
  /**
   * The overlay settings of each start order whose cluster can have one: every active rank's device reported
   * it can join (`hardware.mesh.kind = nebula`). Signs a fresh host certificate per order. Jobs of other
   * clusters are absent from the answer and start with the session addresses only.
   */
  forStarts(starts: MeshStart[]): Promise<Map<string, JobMesh>>;
  /** Forgets the overlays of ended clusters and makes the lighthouse trust exactly the open ones. */
  sweep(): Promise<void>;
  stop(): Promise<void>;
}

/** The variables a rank on an overlay gets; they replace the session-address ones of the same name. */
export function meshEnv(mesh: JobMesh, rank: number): Record<string, string> {
  return {
    MASTER_ADDR: mesh.peers[0]!,
    IGNIS_MESH_ADDR: mesh.peers[rank]!,
    IGNIS_PEERS: mesh.peers.join(","),
  };
}

/** The coordinator over a database, nebula-cert and the lighthouse. */
export function createMeshCoordinator(options: {
  db: Db;
  tool: NebulaCertTool;
  /** The lighthouse, opened on first use (a server that never hosts an overlay never starts one). */
  lighthouse: () => Promise<Lighthouse>;
  /** Where workers reach the lighthouse; null: the host of the server URL each worker uses. */
  lighthouseHost: string | null;
  now: () => number;
}): MeshCoordinator {
  const { db, tool } = options;
  // The opening, not its result, is kept: ranks start concurrently, and two openings would make two lighthouses
  // (with port 0, on two ports; on a first start, under two CAs), only the last of which ever runs, while the
  // ranks of the first opening were sent the other's port and CA and knock where nothing answers.
  let opening: Promise<Lighthouse> | undefined;
  const lighthouse = (): Promise<Lighthouse> =>
    (opening ??= options.lighthouse().catch((error: unknown) => {
      opening = undefined; // the next start tries again
      throw error;
    }));
  const refreshTrust = async () => (await lighthouse()).trust(await openMeshCas(db));

  const meshReady = async (clusterIds: string[]): Promise<Set<string>> => {
    const rows = await db
      .selectFrom("cluster_jobs as j")
      .innerJoin("devices as d", "d.id", "j.device_id")
      .select(["j.cluster_id", "d.hardware"])
      .where("j.cluster_id", "in", clusterIds)
      .where("j.active", "=", true)
      .execute();
    const ready = new Set(clusterIds);
    for (const row of rows) {
      const mesh = (row.hardware as { mesh?: { kind?: unknown } } | null)?.mesh;
      if (mesh?.kind !== "nebula") ready.delete(row.cluster_id);
    }
    return ready;
  };

  return {
    async forStarts(starts) {
      const answer = new Map<string, JobMesh>();
      const eligible = starts.filter((s) => s.count <= MAX_MESH_RANKS);
      if (eligible.length === 0) return answer;
      const ready = await meshReady([...new Set(eligible.map((s) => s.clusterId))]);
      if (ready.size === 0) return answer;
      const { caCert: lighthouseCaCert, port } = await lighthouse();
      for (const start of eligible) {
        if (!ready.has(start.clusterId)) continue;
        const row = await ensureClusterMesh(
          db,
          tool,
          { id: start.clusterId, endsAt: start.endsAt },
          options.now(),
        );
        const host = await tool.signHost(
          { cert: row.ca_cert, key: row.ca_key },
          `rank-${start.rank}`,
          `${rankAddr(row.slot, start.rank)}/${OVERLAY_PREFIX}`,
        );
        answer.set(start.jobId, {
          kind: "nebula",
          caCert: row.ca_cert,
          caFingerprint: row.ca_fingerprint,
          lighthouseCaCert,
          hostCert: host.cert,
          hostKey: host.key,
          cidr: `${rankAddr(row.slot, start.rank)}/${OVERLAY_PREFIX}`,
          lighthouse: { meshAddr: LIGHTHOUSE_ADDR, host: options.lighthouseHost, port },
          peers: slotPeers(row.slot, start.count),
          // Next to the head's rendezvous port (drawn from 20000-29999), on every rank's overlay address.
          probePort: start.headPort + 1,
        });
      }
      // The lighthouse must trust a cluster's CA before its nodes knock.
      if (answer.size > 0) await refreshTrust();
      return answer;
    },
    async sweep() {
      const forgotten = await forgetEndedMeshes(db);
      // Another replica may have opened an overlay this one's lighthouse does not trust yet.
      if (opening || forgotten > 0 || (await openMeshCas(db)).length > 0) await refreshTrust();
    },
    // An opening still under way is waited for, so that no lighthouse is left running after the stop.
    stop: async () => (await opening?.catch(() => undefined))?.stop(),
  };
}
