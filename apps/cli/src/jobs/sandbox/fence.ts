import { BlockList, isIP } from "node:net";
import { networkInterfaces } from "node:os";
import type { CommandRunner } from "./exec.js";

/**
 * The network fence of a job: firewall rules inside the job's own network namespace, put there by the worker
 * after the container is created and before its first instruction runs. The job has no capabilities, so it
 * cannot change them. Egress to the internet is open; the host (its loopback, its own addresses, the bridge
 * gateway), private networks, link-local addresses and cloud metadata endpoints are rejected, except what the
 * supplier allows, the job's DNS resolvers (port 53 only), the cluster's head (its port only) and the other
 * ranks on the cluster's overlay (through its tun device only).
 */

/** IPv4 ranges a job may not reach by default. */
export const BLOCKED_V4 = [
  "0.0.0.0/8", // "this network"
  "10.0.0.0/8", // RFC 1918
  "100.64.0.0/10", // carrier-grade NAT, also some clouds' metadata (100.100.100.200)
  "127.0.0.0/8", // loopback
  "169.254.0.0/16", // link-local, cloud metadata (169.254.169.254)
  "172.16.0.0/12", // RFC 1918
  "192.0.0.0/24", // IETF protocol assignments
  "192.168.0.0/16", // RFC 1918
  "198.18.0.0/15", // benchmarking, used inside some data centres
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved and broadcast
];

/** IPv6 ranges a job may not reach by default. */
export const BLOCKED_V6 = [
  "::/128",
  "::1/128", // loopback
  "::ffff:0:0/96", // IPv4-mapped: the IPv4 rules must not be sidestepped
  "64:ff9b:1::/48", // local-use NAT64
  "fc00::/7", // unique local, includes cloud metadata (fd00:ec2::254)
  "fe80::/10", // link-local
  "ff00::/8", // multicast
];

/** What a job's fence lets through on top of the internet. */
export interface FencePlan {
  /** The container's DNS resolvers (from its resolv.conf): port 53 only. */
  resolvers: string[];
  /** Ranges the supplier allows (config `allowNetworks`). */
  allowNetworks: string[];
  /** Hosts and TCP ports the job must reach (the cluster's head). */
  reach: { host: string; port: number }[];
  /** Addresses of the host itself, blocked even when public (a service bound to 0.0.0.0 answers on them). */
  hostAddresses: string[];
  /** The cluster's overlay: its tun device in the job's namespace and the ranks' addresses on it. */
  overlay?: { dev: string; peers: string[] } | undefined;
}

/** Parses `a.b.c.d/n` or an address; null when it is neither an IPv4 nor an IPv6 range. */
export function parseCidr(text: string): { address: string; prefix: number; family: 4 | 6 } | null {
  const [address = "", prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const family = isIP(address);
  if (family !== 4 && family !== 6) return null;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || !/^\d*$/.test(prefixText ?? "")) return null;
  return { address, prefix, family };
}

/** The host's own addresses (all interfaces, loopback included), unscoped. */
export function hostAddresses(): string[] {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(a.address.split("%")[0]!);
  }
  return [...out];
}

/** Resolvers named in a resolv.conf. */
export function resolversOf(resolvConf: string): string[] {
  return resolvConf
    .split("\n")
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]?.split("%")[0])
    .filter((a): a is string => a !== undefined && isIP(a) !== 0);
}

function literal(address: string, prefix?: number): string {
  return prefix === undefined ? address : `${address}/${prefix}`;
}

function split(plan: FencePlan) {
  const allow = plan.allowNetworks.map(parseCidr).filter((c) => c !== null);
  const reach = plan.reach.filter((r) => isIP(r.host) !== 0 && Number.isInteger(r.port) && r.port > 0);
  const resolvers = plan.resolvers.filter((r) => isIP(r) !== 0);
  // Host addresses inside a blocked range are blocked already (and nft refuses overlapping set elements).
  const host = [...new Set(plan.hostAddresses)].filter((a) => isIP(a) !== 0 && !blockedByDefault(a));
  const overlay =
    plan.overlay && /^[A-Za-z0-9_-]{1,15}$/.test(plan.overlay.dev)
      ? { dev: plan.overlay.dev, peers: plan.overlay.peers.filter((p) => isIP(p) === 4) }
      : undefined;
  return { allow, reach, resolvers, host, overlay };
}

/** The fence as an nftables ruleset (one atomic `nft -f -`). */
export function nftRuleset(plan: FencePlan): string {
  const { allow, reach, resolvers, host, overlay } = split(plan);
  const fam = (a: string) => (isIP(a) === 6 ? "ip6" : "ip");
  const lines = [
    "table inet ignis_job {",
    "  chain output {",
    "    type filter hook output priority 0; policy accept;",
    '    oifname "lo" accept',
    "    ct state established,related accept",
    ...resolvers.flatMap((r) => [
      `    ${fam(r)} daddr ${r} udp dport 53 accept`,
      `    ${fam(r)} daddr ${r} tcp dport 53 accept`,
    ]),
    ...allow.map((c) => `    ${c.family === 6 ? "ip6" : "ip"} daddr ${literal(c.address, c.prefix)} accept`),
    ...reach.map((r) => `    ${fam(r.host)} daddr ${r.host} tcp dport ${r.port} accept`),
    ...(overlay && overlay.peers.length > 0
      ? [`    oifname "${overlay.dev}" ip daddr { ${overlay.peers.join(", ")} } accept`]
      : []),
    `    ip daddr { ${[...BLOCKED_V4, ...host.filter((a) => isIP(a) === 4)].join(", ")} } reject with icmpx type admin-prohibited`,
    `    ip6 daddr { ${[...BLOCKED_V6, ...host.filter((a) => isIP(a) === 6)].join(", ")} } reject with icmpx type admin-prohibited`,
    "  }",
    "}",
    "",
  ];
  return lines.join("\n");
}

/** The fence as iptables-restore input for one family (where nftables' `nft` is not installed). */
export function iptablesRules(plan: FencePlan, family: 4 | 6): string {
  const { allow, reach, resolvers, host, overlay } = split(plan);
  const mine = (a: string) => isIP(a) === family;
  const reject = family === 4 ? "icmp-admin-prohibited" : "icmp6-adm-prohibited";
  const blocked = [...(family === 4 ? BLOCKED_V4 : BLOCKED_V6), ...host.filter(mine)];
  return [
    "*filter",
    ":OUTPUT ACCEPT [0:0]",
    "-A OUTPUT -o lo -j ACCEPT",
    "-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
    ...resolvers
      .filter(mine)
      .flatMap((r) => [
        `-A OUTPUT -d ${r} -p udp --dport 53 -j ACCEPT`,
        `-A OUTPUT -d ${r} -p tcp --dport 53 -j ACCEPT`,
      ]),
    ...allow
      .filter((c) => c.family === family)
      .map((c) => `-A OUTPUT -d ${literal(c.address, c.prefix)} -j ACCEPT`),
    ...reach
      .filter((r) => mine(r.host))
      .map((r) => `-A OUTPUT -d ${r.host} -p tcp --dport ${r.port} -j ACCEPT`),
    ...(overlay && family === 4
      ? overlay.peers.map((p) => `-A OUTPUT -o ${overlay.dev} -d ${p} -j ACCEPT`)
      : []),
    ...blocked.map((b) => `-A OUTPUT -d ${b} -j REJECT --reject-with ${reject}`),
    "COMMIT",
    "",
  ].join("\n");
}

function blockList(ranges: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of ranges.map(parseCidr)) {
    if (c) list.addSubnet(c.address, c.prefix, c.family === 4 ? "ipv4" : "ipv6");
  }
  return list;
}

// One list per family: Node's BlockList matches IPv4 addresses against IPv4-mapped IPv6 ranges.
const BLOCKED_V4_LIST = blockList(BLOCKED_V4);
const BLOCKED_V6_LIST = blockList(BLOCKED_V6);

/** True when `address` falls in a range the fence blocks by default (tests and the config check use it). */
export function blockedByDefault(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED_V4_LIST.check(address, "ipv4");
  if (family === 6) return BLOCKED_V6_LIST.check(address, "ipv6");
  return false;
}

/** The firewall tool of this machine that puts the fence in place. */
export type FenceTool = "nft" | "iptables";

/** Which firewall tool this machine has, nftables first; null when it has neither. */
export async function detectFenceTool(run: CommandRunner): Promise<FenceTool | null> {
  if ((await run("nft", ["--version"], { timeoutMs: 5000 })).code === 0) return "nft";
  if ((await run("iptables-restore", ["--version"], { timeoutMs: 5000 })).code === 0) return "iptables";
  return null;
}

/**
 * Puts the fence into the network namespace at `netns` and reads it back; throws when it is not in place, so
 * a job never starts unfenced. `enter` prefixes the command that runs inside the namespace (rootless podman
 * needs `podman unshare` to hold the capability there).
 */
export async function applyFence(
  run: CommandRunner,
  tool: FenceTool,
  netns: string,
  plan: FencePlan,
  enter: string[] = [],
): Promise<void> {
  const inside = (bin: string, args: string[]): [string, string[]] => {
    const argv = [...enter, "nsenter", `--net=${netns}`, bin, ...args];
    return [argv[0]!, argv.slice(1)];
  };
  const must = async (bin: string, args: string[], input?: string) => {
    const [b, a] = inside(bin, args);
    const result = await run(b, a, { timeoutMs: 15_000, ...(input ? { input } : {}) });
    if (result.code !== 0) {
      throw new Error(
        `network fence: ${bin} failed: ${(result.error?.message ?? result.stderr).trim().slice(0, 300)}`,
      );
    }
    return result.stdout;
  };
  if (tool === "nft") {
    await must("nft", ["-f", "-"], nftRuleset(plan));
    // Read back after the commit (a `list` in the same file would show the table before its rules land).
    const listed = await must("nft", ["list", "table", "inet", "ignis_job"]);
    if (!listed.includes("reject")) throw new Error("network fence: the rules did not take");
    return;
  }
  await must("iptables-restore", [], iptablesRules(plan, 4));
  await must("ip6tables-restore", [], iptablesRules(plan, 6));
  const listed = await must("iptables", ["-S", "OUTPUT"]);
  if (!listed.includes("REJECT")) throw new Error("network fence: the rules did not take");
}
