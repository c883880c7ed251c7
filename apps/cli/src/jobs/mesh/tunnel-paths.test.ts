import { describe, expect, it } from "vitest";
import { TunnelPaths } from "./tunnel-paths.js";

// Lines as nebula 1.6 logs them (trimmed to the fields that matter).
const received = (vpnIp: string, udpAddr: unknown) =>
  JSON.stringify({ handshake: { stage: 2 }, msg: "Handshake message received", udpAddr, vpnIp });

describe("the path of each tunnel, from nebula's log", () => {
  it("calls a handshake that came from the peer's address direct, and one through the relay relayed", () => {
    const paths = new TunnelPaths();
    paths.read(received("10.96.1.2", { ip: "203.0.113.6", port: 44510 }));
    paths.read(received("10.96.1.3", null));
    paths.read(
      JSON.stringify({
        handshake: { stage: 2 },
        msg: "Handshake message sent",
        relay: "10.96.0.1",
        vpnIp: "10.96.1.4",
      }),
    );
    expect(paths.of("10.96.1.2")).toBe("direct");
    expect(paths.of("10.96.1.3")).toBe("relay");
    expect(paths.of("10.96.1.4")).toBe("relay");
    expect(paths.of("10.96.1.9")).toBeUndefined();
  });

  it("moves a relayed tunnel to direct when the peer roams to a punched address", () => {
    const paths = new TunnelPaths();
    paths.read(received("10.96.1.3", null));
    paths.read(JSON.stringify({ msg: "Host roamed to new udp ip/port.", vpnIp: "10.96.1.3" }));
    expect(paths.of("10.96.1.3")).toBe("direct");
  });

  it("ignores first-stage handshakes, other lines and text that is not JSON", () => {
    const paths = new TunnelPaths();
    paths.read(
      JSON.stringify({
        handshake: { stage: 1 },
        msg: "Handshake message sent",
        udpAddr: null,
        vpnIp: "10.96.1.2",
      }),
    );
    paths.read("panic: something");
    paths.read("{not json");
    expect(paths.of("10.96.1.2")).toBeUndefined();
  });
});
