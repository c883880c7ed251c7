import { describe, expect, it } from "vitest";
import { hostPort, normalizePeerAddress } from "./session-address.js";

describe("session peer addresses", () => {
  it("turns an IPv4-mapped IPv6 address into the IPv4 address other machines dial", () => {
    expect(normalizePeerAddress("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(normalizePeerAddress("::FFFF:10.1.2.3")).toBe("10.1.2.3");
    expect(normalizePeerAddress("198.51.100.4")).toBe("198.51.100.4");
    expect(normalizePeerAddress("2001:db8::1")).toBe("2001:db8::1");
  });

  it("joins host and port, bracketing IPv6", () => {
    expect(hostPort("10.0.0.5", 20000)).toBe("10.0.0.5:20000");
    expect(hostPort("2001:db8::1", 20000)).toBe("[2001:db8::1]:20000");
  });
});
