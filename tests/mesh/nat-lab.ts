import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { type CommandResult, runCommand } from "../../apps/cli/src/jobs/sandbox/exec.js";

/**
 * A small internet built from network namespaces on the test machine. A "wan" namespace holds a bridge; the
 * test's own namespace joins it at `serverIp` (the control plane listens there). Each site is a router namespace
 * on the wan, masquerading (iptables MASQUERADE) a LAN namespace behind it and dropping every unsolicited inbound
 * packet, like a home router with no port forwarded. A worker started in a site's LAN namespace reaches the
 * server and the other site only through its router's NAT.
 */
export interface NatLab {
  /** The server's address on the wan. */
  readonly serverIp: string;
  /** Adds a site behind its own NAT; its LAN namespace's name (for `nsenter --net=/run/netns/NAME`). */
  addSite(): Promise<NatSite>;
  /** Removes every namespace of the lab (veths go with them). */
  close(): Promise<void>;
}

/** One site behind its own NAT. */
export interface NatSite {
  /** The LAN namespace's name (under /run/netns). */
  readonly netns: string;
  /** The router's public (wan) address: what the server and the other sites see of this site. */
  readonly publicIp: string;
  /** Runs a command in the site's LAN namespace. */
  exec(argv: string[], timeoutMs?: number): Promise<CommandResult>;
}

/** Why the NAT lab cannot be built here, or null when it can (root, iproute2, iptables, nsenter, nebula). */
export async function natLabMissing(): Promise<string | null> {
  if (process.getuid?.() !== 0) return "the NAT lab makes network namespaces: run the test as root";
  for (const [bin, args, pkg] of [
    ["ip", ["-V"], "iproute2"],
    ["iptables", ["--version"], "iptables"],
    ["nsenter", ["--version"], "util-linux"],
    ["nebula", ["-version"], "nebula"],
    ["nebula-cert", ["-version"], "nebula"],
  ] as const) {
    const r = await runCommand(bin, [...args], { timeoutMs: 10_000 });
    if (r.error || r.code !== 0) return `${bin} is missing (apt-get install -y ${pkg})`;
  }
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing";
  const probe = `ignis-probe-${randomBytes(3).toString("hex")}`;
  const made = await runCommand("ip", ["netns", "add", probe], { timeoutMs: 10_000 });
  await runCommand("ip", ["netns", "del", probe], { timeoutMs: 10_000 });
  if (made.code !== 0) return `network namespaces cannot be made here: ${made.stderr.trim().slice(0, 200)}`;
  return null;
}

async function must(argv: string[]): Promise<string> {
  const r = await runCommand(argv[0]!, argv.slice(1), { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${argv.join(" ")}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
  return r.stdout;
}

/** Runs argv in a namespace with nsenter (not `ip netns exec`, which remounts /sys and hides the cgroups). */
function inNs(ns: string, argv: string[]): string[] {
  return ["nsenter", `--net=/run/netns/${ns}`, "--", ...argv];
}

/**
 * Builds the lab's wan. `octet` picks the wan subnet 198.18.OCTET.0/24 (RFC 2544 benchmarking space, routed
 * nowhere) so two labs on one machine do not meet.
 */
export async function openNatLab(octet = 77): Promise<NatLab> {
  const id = randomBytes(3).toString("hex");
  const wan = `ig${id}w`;
  const namespaces = [wan];
  const serverIp = `198.18.${octet}.1`;
  await must(["ip", "netns", "add", wan]);
  const lab: NatLab = {
    serverIp,
    async addSite() {
      const n = namespaces.length; // 1, 2, ...
      const router = `ig${id}r${n}`;
      const lan = `ig${id}s${n}`;
      namespaces.push(router, lan);
      await must(["ip", "netns", "add", router]);
      await must(["ip", "netns", "add", lan]);
      const publicIp = `198.18.${octet}.${10 + n}`;
      const lanNet = `192.168.${octet + n}`;
      // router <-> wan bridge
      await must([
        "ip",
        "link",
        "add",
        `${router}w`,
        "netns",
        router,
        "type",
        "veth",
        "peer",
        `${router}b`,
        "netns",
        wan,
      ]);
      await must(inNs(wan, ["ip", "link", "set", `${router}b`, "master", "br0", "up"]));
      // router <-> LAN
      await must([
        "ip",
        "link",
        "add",
        `${router}l`,
        "netns",
        router,
        "type",
        "veth",
        "peer",
        `${lan}e`,
        "netns",
        lan,
      ]);
      const r = (argv: string[]) => must(inNs(router, argv));
      const s = (argv: string[]) => must(inNs(lan, argv));
      await r(["ip", "link", "set", "lo", "up"]);
      await r(["ip", "addr", "add", `${publicIp}/24`, "dev", `${router}w`]);
      await r(["ip", "link", "set", `${router}w`, "up"]);
      await r(["ip", "addr", "add", `${lanNet}.1/24`, "dev", `${router}l`]);
      await r(["ip", "link", "set", `${router}l`, "up"]);
      await r(["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
      // A home router: the LAN goes out under the router's address; from the wan only replies come back.
      await r(["iptables", "-t", "nat", "-A", "POSTROUTING", "-o", `${router}w`, "-j", "MASQUERADE"]);
      await r(["iptables", "-P", "FORWARD", "DROP"]);
      await r(["iptables", "-A", "FORWARD", "-i", `${router}l`, "-o", `${router}w`, "-j", "ACCEPT"]);
      await r([
        "iptables",
        "-A",
        "FORWARD",
        "-i",
        `${router}w`,
        "-m",
        "conntrack",
        "--ctstate",
        "ESTABLISHED,RELATED",
        "-j",
        "ACCEPT",
      ]);
      // Nor does the router itself answer the wan: an unsolicited packet to it is dropped, not tracked, so it
      // cannot take the address and port a LAN host's later outbound packet is mapped to.
      await r([
        "iptables",
        "-A",
        "INPUT",
        "-i",
        `${router}w`,
        "-m",
        "conntrack",
        "--ctstate",
        "ESTABLISHED,RELATED",
        "-j",
        "ACCEPT",
      ]);
      await r(["iptables", "-A", "INPUT", "-i", `${router}w`, "-j", "DROP"]);
      await s(["ip", "link", "set", "lo", "up"]);
      await s(["ip", "addr", "add", `${lanNet}.2/24`, "dev", `${lan}e`]);
      await s(["ip", "link", "set", `${lan}e`, "up"]);
      await s(["ip", "route", "add", "default", "via", `${lanNet}.1`]);
      // The worker's jobs reach the internet through the site's own podman bridge, which forwards.
      await s(["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
      return {
        netns: lan,
        publicIp,
        exec: (argv, timeoutMs = 30_000) =>
          runCommand("nsenter", [`--net=/run/netns/${lan}`, "--", ...argv], { timeoutMs }),
      };
    },
    async close() {
      for (const ns of namespaces.reverse())
        await runCommand("ip", ["netns", "del", ns], { timeoutMs: 30_000 });
    },
  };
  try {
    await must(inNs(wan, ["ip", "link", "set", "lo", "up"]));
    await must(inNs(wan, ["ip", "link", "add", "br0", "type", "bridge"]));
    await must(inNs(wan, ["ip", "link", "set", "br0", "up"]));
    // The test's namespace (where the server listens) joins the wan at serverIp.
    await must(["ip", "link", "add", `${wan}h`, "type", "veth", "peer", `${wan}b`, "netns", wan]);
    await must(inNs(wan, ["ip", "link", "set", `${wan}b`, "master", "br0", "up"]));
    await must(["ip", "addr", "add", `${serverIp}/24`, "dev", `${wan}h`]);
    await must(["ip", "link", "set", `${wan}h`, "up"]);
  } catch (error) {
    await lab.close();
    throw error;
  }
  return lab;
}
