import { describe, expect, it } from "vitest";
import { blockedByDefault, iptablesRules, nftRuleset, parseCidr, resolversOf } from "./fence.js";

const plan = {
  resolvers: ["10.255.255.53"],
  allowNetworks: ["192.168.7.0/24"],
  reach: [{ host: "10.1.2.3", port: 23456 }],
  hostAddresses: ["127.0.0.1", "10.0.0.5", "203.0.113.9", "2001:db8::9"],
};

describe("a job's network fence", () => {
  it("blocks loopback, private, link-local, carrier NAT and cloud metadata addresses, and lets the internet through", () => {
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.100.100.200",
      "fd00:ec2::254",
      "fe80::1",
      "::1",
      "::ffff:10.0.0.1",
    ]) {
      expect(blockedByDefault(a), a).toBe(true);
    }
    for (const a of ["1.1.1.1", "8.8.8.8", "2606:4700:4700::1111"])
      expect(blockedByDefault(a), a).toBe(false);
  });

  it("allows the resolvers on port 53 only, the supplier's ranges, and the head on its port only", () => {
    const rules = nftRuleset(plan);
    expect(rules).toContain("ip daddr 10.255.255.53 udp dport 53 accept");
    expect(rules).not.toMatch(/ip daddr 10\.255\.255\.53 accept/);
    expect(rules).toContain("ip daddr 192.168.7.0/24 accept");
    expect(rules).toContain("ip daddr 10.1.2.3 tcp dport 23456 accept");
    // Accepts come before the rejects, and the host's public addresses are rejected too.
    expect(rules.indexOf("accept", rules.indexOf("10.1.2.3"))).toBeLessThan(rules.indexOf("reject"));
    expect(rules).toContain("203.0.113.9");
    expect(rules).toContain("2001:db8::9");
    expect(rules.match(/10\.0\.0\.5/)).toBeNull();
  });

  it("says the same with iptables where nftables is missing", () => {
    const v4 = iptablesRules(plan, 4);
    expect(v4).toContain("-A OUTPUT -d 10.255.255.53 -p udp --dport 53 -j ACCEPT");
    expect(v4).toContain("-A OUTPUT -d 169.254.0.0/16 -j REJECT --reject-with icmp-admin-prohibited");
    expect(v4).toContain("-A OUTPUT -d 203.0.113.9 -j REJECT");
    expect(iptablesRules(plan, 6)).toContain(
      "-A OUTPUT -d fc00::/7 -j REJECT --reject-with icmp6-adm-prohibited",
    );
  });

  it("lets the job reach its cluster's ranks only through the overlay's tun, and nothing else of the overlay", () => {
    const overlay = { dev: "ignm0123456789", peers: ["10.96.5.1", "10.96.5.2"] };
    const nft = nftRuleset({ ...plan, overlay });
    expect(nft).toContain('oifname "ignm0123456789" ip daddr { 10.96.5.1, 10.96.5.2 } accept');
    expect(nft.indexOf("ignm0123456789")).toBeLessThan(nft.indexOf("reject"));
    const v4 = iptablesRules({ ...plan, overlay }, 4);
    expect(v4).toContain("-A OUTPUT -o ignm0123456789 -d 10.96.5.2 -j ACCEPT");
    // The lighthouse (10.96.0.1) and other clusters' ranks stay behind the private-range reject.
    expect(v4).not.toContain("10.96.0.1");
    expect(v4.indexOf("ignm0123456789")).toBeLessThan(v4.indexOf("REJECT"));
    // A device name that could smuggle rules in is not used.
    expect(nftRuleset({ ...plan, overlay: { dev: 'x" accept #', peers: ["10.96.5.1"] } })).not.toContain(
      "10.96.5.1",
    );
  });

  it("reads ranges and resolvers strictly", () => {
    expect(parseCidr("192.168.5.0/24")).toEqual({ address: "192.168.5.0", prefix: 24, family: 4 });
    for (const bad of ["192.168.5.0/33", "10.0.0.0/8/1", "example.com", "10.0.0.0/x", ""]) {
      expect(parseCidr(bad), bad).toBeNull();
    }
    expect(resolversOf("# x\nnameserver 10.0.0.53\nnameserver fe80::1%eth0\nsearch lan\n")).toEqual([
      "10.0.0.53",
      "fe80::1",
    ]);
  });
});
