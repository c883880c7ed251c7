import { createHash } from "node:crypto";
import type { JobMesh } from "@ignis/protocol";

/**
 * A rank's nebula configuration: its cluster's CA (and the lighthouse's, so it can meet the lighthouse and
 * relay), its host certificate, the lighthouse at the control plane's host, hole punching, and a firewall that
 * admits only hosts the cluster's CA signed. The tun device it makes is moved into the job's network namespace.
 */

/** The tun device of a job's overlay: `ignm` and 10 hex digits of the job id (interface names hold 15). */
export function overlayDevice(jobId: string): string {
  return `ignm${createHash("sha256").update(jobId).digest("hex").slice(0, 10)}`;
}

/** Interfaces whose addresses a node never offers its peers: container bridges and other overlays. */
const PRIVATE_INTERFACES = ["podman.*", "cni.*", "veth.*", "docker.*", "br-.*", "virbr.*", "ignm.*"];

/** MTU of the overlay: fits nebula's overhead inside a 1500-byte underlay, with room for PPPoE. */
export const OVERLAY_MTU = 1300;

/** What the node's config is built from. */
export interface NodeConfigInput {
  mesh: JobMesh;
  /** The lighthouse's underlay IPv4 address (the control plane's host, resolved). */
  lighthouseIp: string;
  dev: string;
  /** Whether this node may reach peers through the relay (only after a direct path failed). */
  useRelays: boolean;
}

/** The config nebula reads (JSON, which nebula reads as YAML); holds the host key, so it is written 0600. */
export function nebulaNodeConfig(input: NodeConfigInput): Record<string, unknown> {
  const { mesh } = input;
  const lighthouse = mesh.lighthouse.meshAddr;
  return {
    pki: {
      ca: `${mesh.caCert.trim()}\n${mesh.lighthouseCaCert.trim()}\n`,
      cert: mesh.hostCert,
      key: mesh.hostKey,
    },
    static_host_map: { [lighthouse]: [`${input.lighthouseIp}:${mesh.lighthouse.port}`] },
    lighthouse: {
      am_lighthouse: false,
      interval: 10,
      hosts: [lighthouse],
      local_allow_list: { interfaces: Object.fromEntries(PRIVATE_INTERFACES.map((i) => [i, false])) },
    },
    // Port 0: a free port of the kernel's choosing, so several jobs (and sites) never collide.
    listen: { host: "0.0.0.0", port: 0 },
    punchy: { punch: true, respond: true },
    relay: { relays: [lighthouse], use_relays: input.useRelays },
    tun: { dev: input.dev, mtu: OVERLAY_MTU },
    logging: { level: "info", format: "json" },
    firewall: {
      outbound: [{ port: "any", proto: "any", host: "any" }],
      // Only the cluster's own ranks: the lighthouse's CA is trusted for the handshake, never let in.
      inbound: [{ port: "any", proto: "any", host: "any", ca_sha: mesh.caFingerprint }],
    },
  };
}
