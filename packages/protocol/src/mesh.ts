import { z } from "zod";
import { DeviceId } from "./common.js";
import { JobId } from "./market.js";

/**
 * A cluster's private overlay (Nebula): the control plane is its coordinator. It gives each open cluster its own
 * CA and subnet, signs each rank's host certificate, and runs the lighthouse and relay the nodes meet at.
 */

/** Most peers one rank measures and reports (a cluster's ranks beyond this are not measured from it). */
export const MESH_MAX_MEASURED_PEERS = 64;

const printable = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, "no control characters");

/** An IPv4 overlay address, e.g. `10.96.5.1`. */
export const MeshAddr = z.ipv4();
/** An overlay address. */
export type MeshAddr = z.infer<typeof MeshAddr>;

/**
 * What a worker reports about the overlay in its metadata (`hardware.mesh`): `nebula` when it can join a
 * cluster's overlay (nebula installed, a tun device can be made), else why not.
 */
export const MeshReport = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("nebula"), version: printable(40) }),
  z.strictObject({ kind: z.literal("unavailable"), message: printable(300) }),
]);
/** A worker's report about its overlay support. */
export type MeshReport = z.infer<typeof MeshReport>;

/** A PEM block of Nebula's (a certificate or a key). */
const NebulaPem = z
  .string()
  .max(4096)
  .regex(/^-----BEGIN NEBULA [A-Z0-9 ]+-----\n[A-Za-z0-9+/=\n]+-----END NEBULA [A-Z0-9 ]+-----\n?$/);

/**
 * Part of a `job.start` for a device that joins the cluster's overlay: the cluster's CA, this rank's host
 * certificate and key, the lighthouse (also the relay) and the overlay addresses of every rank.
 */
export const JobMesh = z.object({
  kind: z.literal("nebula"),
  /** The cluster's CA: the node trusts it, and its firewall admits only hosts it signed. */
  caCert: NebulaPem,
  /** Nebula's fingerprint of `caCert` (the firewall's `ca_sha`). */
  caFingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  /** The control plane's lighthouse CA, so the node accepts the lighthouse and relay. */
  lighthouseCaCert: NebulaPem,
  hostCert: NebulaPem,
  hostKey: NebulaPem,
  /** This rank's overlay address with the overlay's prefix length (`10.96.5.1/12`). */
  cidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/),
  /**
   * The lighthouse: its overlay address and where it listens (UDP). A null `host` is the host of the server URL
   * the worker dialled, so whatever reaches the control plane reaches its lighthouse.
   */
  lighthouse: z.object({
    meshAddr: MeshAddr,
    host: z.string().min(1).max(253).nullable(),
    port: z.number().int().min(1).max(65_535),
  }),
  /** Overlay addresses of every rank, in rank order. */
  peers: z.array(MeshAddr).min(1).max(10_000),
  /** The TCP port on each rank's overlay address where the worker answers link measurements. */
  probePort: z.number().int().min(1).max(65_535),
});
/** A rank's overlay settings. */
export type JobMesh = z.infer<typeof JobMesh>;

/** How a link between two ranks goes: straight between them (punched through NATs) or through the relay. */
export const MeshPath = z.enum(["direct", "relay"]);
/** A link's path. */
export type MeshPath = z.infer<typeof MeshPath>;

/** One measured link from the reporting rank to another rank. */
export const MeshLinkMeasure = z.strictObject({
  to: z.number().int().min(0).max(100_000),
  rttMs: z.number().min(0).max(600_000),
  mbps: z.number().min(0).max(10_000_000),
  path: MeshPath,
});
/** A measured link. */
export type MeshLinkMeasure = z.infer<typeof MeshLinkMeasure>;

/** Worker → server: what one rank's job measured to the other ranks over the overlay. */
export const MeshLinksMessage = z.strictObject({
  type: z.literal("mesh.links"),
  jobId: JobId,
  links: z.array(MeshLinkMeasure).max(MESH_MAX_MEASURED_PEERS),
});
/** A link report. */
export type MeshLinksMessage = z.infer<typeof MeshLinksMessage>;

/** A rank of a cluster on its overlay. */
export const MeshPeerView = z.object({ rank: z.number().int(), deviceId: DeviceId, meshAddr: MeshAddr });
/** A rank on the overlay. */
export type MeshPeerView = z.infer<typeof MeshPeerView>;

/** A measured link between two ranks (`from`, `to`), as the customer sees it. */
export const MeshLinkView = z.object({
  from: z.number().int(),
  to: z.number().int(),
  rttMs: z.number(),
  mbps: z.number(),
  path: MeshPath,
  measuredAt: z.string(),
});
/** A measured link. */
export type MeshLinkView = z.infer<typeof MeshLinkView>;

/** `GET /v1/clusters/{id}/network`: the cluster's ranks on its overlay and the links they measured. */
export const ClusterNetworkView = z.object({
  clusterId: z.string(),
  kind: z.literal("nebula"),
  subnet: z.string(),
  peers: z.array(MeshPeerView),
  matrix: z.array(MeshLinkView),
});
/** A cluster's network. */
export type ClusterNetworkView = z.infer<typeof ClusterNetworkView>;
