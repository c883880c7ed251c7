import { describe, expect, it } from "vitest";
import { createHandshakeRule } from "./unknown-device-handshake.js";

const T0 = 1_000_000;

describe("unknown-device handshake rule", () => {
  it("blocks an address that keeps handshaking for devices that do not exist", () => {
    const rule = createHandshakeRule({ ipThreshold: 5 });
    const findings = Array.from({ length: 5 }, (_, i) =>
      rule.observe({ at: T0 + i, deviceId: `dev_guess${i}`, ip: "198.51.100.4", reason: "unknown_device" }),
    ).flat();
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      rule: "unknown_device_handshake",
      contain: true,
      subject: { key: "ip:198.51.100.4" },
      evidence: { reason: "unknown_device", attempts: 5 },
    });
    expect(findings[0]!.evidence.deviceIds).toHaveLength(5);
  });

  it("alerts, without containment, on a revoked device that keeps calling", () => {
    const rule = createHandshakeRule({ revokedThreshold: 3 });
    const findings = Array.from({ length: 3 }, (_, i) =>
      rule.observe({ at: T0 + i * 1000, deviceId: "dev_old", ip: "198.51.100.5", reason: "revoked_device" }),
    ).flat();
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      contain: false,
      subject: { key: "dev:dev_old" },
      objectId: "dev_old",
    });
  });

  it("tolerates a few stray attempts spread over time", () => {
    const rule = createHandshakeRule({ ipThreshold: 5, windowMs: 60_000 });
    const findings = Array.from({ length: 10 }, (_, i) =>
      rule.observe({ at: T0 + i * 30_000, deviceId: null, ip: "198.51.100.6", reason: "bad_signature" }),
    ).flat();
    expect(findings).toEqual([]);
  });
});
