import { describe, expect, it } from "vitest";
import { epochOf, maskToString, popcount32, SLOTS_PER_EPOCH, slotOf, slotsOfMask } from "./minute-slots.js";

describe("minute slots", () => {
  it("gives a one-hour epoch sixty one-minute slots", () => {
    const start = 1_000 * 3600 * 1000;
    expect(epochOf(start, 3600)).toBe(1000);
    expect(slotOf(start, 3600)).toBe(0);
    expect(slotOf(start + 59_999, 3600)).toBe(0);
    expect(slotOf(start + 60_000, 3600)).toBe(1);
    expect(slotOf(start + 3600_000 - 1, 3600)).toBe(59);
    expect(epochOf(start + 3600_000, 3600)).toBe(1001);
  });

  it("still gives a short test epoch sixty slots, and a long epoch no more than sixty", () => {
    for (const epochSeconds of [1, 6, 60, 90, 7200, 86_400]) {
      const seen = new Set<number>();
      const epochMs = epochSeconds * 1000;
      for (let i = 0; i < 600; i++) seen.add(slotOf(5 * epochMs + (i * epochMs) / 600, epochSeconds));
      expect(seen.size).toBe(SLOTS_PER_EPOCH);
      expect(Math.max(...seen)).toBe(59);
    }
  });

  it("builds 60-bit masks that round-trip through their decimal form", () => {
    expect(maskToString(1, 0)).toBe("1");
    expect(maskToString(0, 1 << 27)).toBe((1n << 59n).toString());
    expect(slotsOfMask(maskToString(0b101, 0b10))).toEqual([0, 2, 33]);
    expect(popcount32(0xffffffff)).toBe(32);
    expect(popcount32(0b1011)).toBe(3);
  });
});
