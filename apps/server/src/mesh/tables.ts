import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** Mesh tables: the overlay of each open cluster and the links its ranks measured. */
export interface MeshTables {
  cluster_meshes: {
    cluster_id: string;
    /** The cluster's subnet slot in the overlay range (unique among open clusters). */
    slot: number;
    /** The cluster's own Nebula CA (PEM); the key is forgotten with the row when the cluster ends. */
    ca_cert: string;
    ca_key: string;
    /** Nebula's fingerprint of the CA, which the nodes' firewalls admit (`ca_sha`). */
    ca_fingerprint: string;
    created_at: Timestamp;
  };
  cluster_mesh_links: {
    cluster_id: string;
    from_rank: number;
    to_rank: number;
    rtt_ms: number;
    mbps: number;
    path: "direct" | "relay";
    measured_at: Timestamp;
  };
}
