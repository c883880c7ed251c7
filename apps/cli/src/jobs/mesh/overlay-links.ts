import { MESH_MAX_MEASURED_PEERS, type MeshLinkMeasure } from "@ignis/protocol";
import { type ProbeResult, probeHosts } from "./link-probe.js";
import type { OverlayNode } from "./overlay-node.js";

/** How long a rank keeps trying to reach peers that do not answer yet, and when it falls back to the relay. */
export interface MeasureTiming {
  /** Give up on peers still unreachable after this long (they are reported without). */
  giveUpMs: number;
  /** Allow the relay when some peer had no direct path for this long. */
  relayAfterMs: number;
  /** Pause between rounds. */
  everyMs: number;
}

const DEFAULT_TIMING: MeasureTiming = { giveUpMs: 60_000, relayAfterMs: 15_000, everyMs: 1000 };

/**
 * Measures the round trip and throughput from this rank to every other rank over the overlay (the first
 * MESH_MAX_MEASURED_PEERS of them), retrying peers that do not answer yet: they may still be starting. Peers
 * with no direct path after `relayAfterMs` are reached through the relay. Each link says which path it took.
 */
export async function measureOverlayLinks(
  node: OverlayNode,
  peers: readonly string[],
  rank: number,
  port: number,
  options: {
    signal: AbortSignal;
    timing?: Partial<MeasureTiming>;
    probe?: (hosts: string[]) => Promise<ProbeResult[]>;
  },
): Promise<MeshLinkMeasure[]> {
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  const probe = options.probe ?? ((hosts) => probeHosts(node.netns, hosts, port));
  const pending = new Map(
    peers
      .map((addr, to) => ({ addr, to }))
      .filter((p) => p.to !== rank)
      .slice(0, MESH_MAX_MEASURED_PEERS)
      .map((p) => [p.addr, p.to]),
  );
  const links: MeshLinkMeasure[] = [];
  const started = Date.now();
  while (pending.size > 0 && !options.signal.aborted && Date.now() - started < timing.giveUpMs) {
    const hosts = [...pending.keys()];
    const results = await probe(hosts);
    if (options.signal.aborted) break;
    hosts.forEach((host, i) => {
      const result = results[i];
      const to = pending.get(host);
      if (!result || to === undefined) return;
      pending.delete(host);
      links.push({
        to,
        rttMs: Math.round(result.rttMs * 1000) / 1000,
        mbps: Math.round(result.mbps * 10) / 10,
        // Without the relay every tunnel is direct; with it, nebula's log says which one a tunnel took.
        path: node.relays() ? (node.paths.of(host) ?? "relay") : "direct",
      });
    });
    if (pending.size === 0) break;
    if (!node.relays() && Date.now() - started >= timing.relayAfterMs) await node.enableRelays();
    await new Promise((r) => setTimeout(r, timing.everyMs));
  }
  return links.sort((a, b) => a.to - b.to);
}
