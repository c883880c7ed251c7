import type { MeshPath } from "@ignis/protocol";

/**
 * How each tunnel of a nebula node goes, read from its JSON log: a completed handshake names the peer's
 * underlay address (direct, punched through the NATs) or the relay it went through; a peer that roams to a new
 * address is direct again.
 */
export class TunnelPaths {
  private readonly paths = new Map<string, MeshPath>();

  /** Reads one log line of nebula's (anything that is not its JSON is ignored). */
  read(line: string): void {
    if (!line.startsWith("{")) return;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const vpnIp = typeof entry.vpnIp === "string" ? entry.vpnIp : undefined;
    if (!vpnIp) return;
    const stage = (entry.handshake as { stage?: unknown } | undefined)?.stage;
    const msg = entry.msg;
    // Stage 2 completes a handshake: the initiator receives it, the responder sends it.
    if ((msg === "Handshake message received" || msg === "Handshake message sent") && stage === 2) {
      if (typeof entry.relay === "string") this.paths.set(vpnIp, "relay");
      else if (entry.udpAddr && typeof entry.udpAddr === "object") this.paths.set(vpnIp, "direct");
      else if ("udpAddr" in entry) this.paths.set(vpnIp, "relay");
    } else if (typeof msg === "string" && msg.startsWith("Host roamed to new udp ip/port")) {
      this.paths.set(vpnIp, "direct");
    }
  }

  /** The path of the tunnel to `vpnIp`, if one was made. */
  of(vpnIp: string): MeshPath | undefined {
    return this.paths.get(vpnIp);
  }
}
