import { describe, expect, it } from "vitest";
import { effectiveTier, parseTier, TIER_VALID_MS, tierOf } from "./connectivity-tiers.js";

describe("connectivity tiers", () => {
  it("gives the best tier whose round trip and throughput thresholds are both met", () => {
    expect(tierOf(5, 2000)).toBe(4);
    expect(tierOf(25, 500)).toBe(4);
    expect(tierOf(26, 5000)).toBe(3);
    expect(tierOf(10, 499)).toBe(3);
    expect(tierOf(60, 100)).toBe(3);
    expect(tierOf(61, 100)).toBe(2);
    expect(tierOf(150, 20)).toBe(2);
    expect(tierOf(151, 10_000)).toBe(1);
    expect(tierOf(1, 19.9)).toBe(1);
  });

  it("gives tier 1 for numbers that are not measurements", () => {
    for (const [rtt, mbps] of [
      [Number.NaN, 1000],
      [1, Number.POSITIVE_INFINITY],
      [-1, 1000],
      [1, -5],
    ] as const) {
      expect(tierOf(rtt, mbps)).toBe(1);
    }
  });

  it("counts a measurement only while it is fresh, and no measurement as tier 1", () => {
    const now = Date.parse("2026-12-06T12:00:00Z");
    expect(effectiveTier(null, now)).toBe(1);
    expect(effectiveTier({ tier: 4, measuredAt: new Date(now - 1000) }, now)).toBe(4);
    expect(effectiveTier({ tier: 4, measuredAt: new Date(now - TIER_VALID_MS - 1) }, now)).toBe(1);
    expect(effectiveTier({ tier: 9, measuredAt: new Date(now) }, now)).toBe(1);
  });

  it("reads a tier by number or name, and nothing else", () => {
    expect(parseTier(3)).toBe(3);
    expect(parseTier("2")).toBe(2);
    expect(parseTier("Ultra")).toBe(4);
    expect(parseTier("basic")).toBe(1);
    for (const bad of [0, 5, 2.5, "", "04", "fast", null, true]) expect(parseTier(bad)).toBeUndefined();
  });
});
