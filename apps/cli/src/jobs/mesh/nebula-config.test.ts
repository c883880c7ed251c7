import type { JobMesh } from "@ignis/protocol";
import { describe, expect, it } from "vitest";
import { nebulaNodeConfig, overlayDevice } from "./nebula-config.js";

const pem = (what: string) => `-----BEGIN NEBULA ${what}-----\nAAAA\n-----END NEBULA ${what}-----\n`;
const mesh: JobMesh = {
  kind: "nebula",
  caCert: pem("CERTIFICATE"),
  caFingerprint: "a".repeat(64),
  lighthouseCaCert: pem("CERTIFICATE"),
  hostCert: pem("CERTIFICATE"),
  hostKey: pem("X25519 PRIVATE KEY"),
  cidr: "10.96.5.2/12",
  lighthouse: { meshAddr: "10.96.0.1", host: null, port: 4242 },
  peers: ["10.96.5.1", "10.96.5.2"],
  probePort: 20001,
};

describe("a rank's nebula config", () => {
  it("meets the lighthouse at the control plane's host and admits only its cluster's CA", () => {
    const config = nebulaNodeConfig({ mesh, lighthouseIp: "198.51.100.1", dev: "ignm0", useRelays: false });
    expect(config.static_host_map).toEqual({ "10.96.0.1": ["198.51.100.1:4242"] });
    expect(config.firewall).toEqual({
      outbound: [{ port: "any", proto: "any", host: "any" }],
      inbound: [{ port: "any", proto: "any", host: "any", ca_sha: "a".repeat(64) }],
    });
    expect(config.relay).toEqual({ relays: ["10.96.0.1"], use_relays: false });
    expect(config.punchy).toEqual({ punch: true, respond: true });
    expect(config.tun).toMatchObject({ dev: "ignm0" });
  });

  it("names each job's tun device within the kernel's 15 characters, differently per job", () => {
    const a = overlayDevice("job_aaaaaaaaaaaaaaaaaaaaaaaaaa");
    const b = overlayDevice("job_bbbbbbbbbbbbbbbbbbbbbbbbbb");
    expect(a).toMatch(/^ignm[0-9a-f]{10}$/);
    expect(a).not.toBe(b);
  });
});
