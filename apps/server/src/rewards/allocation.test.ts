import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocatePool } from "./allocation.js";

describe("allocatePool", () => {
  it("pays each share pool × units / Σ units when the division is exact", () => {
    const amounts = allocatePool(1_000n, [
      { deviceId: "dev_a", units: 1n },
      { deviceId: "dev_b", units: 3n },
    ]);
    expect(amounts).toEqual([250n, 750n]);
  });

  it("gives the rounding leftovers to the largest remainders, ties to the smaller device id", () => {
    // 10 / 3 each: 3 each and one left; equal remainders, so the smallest id gets it.
    expect(
      allocatePool(10n, [
        { deviceId: "dev_c", units: 1n },
        { deviceId: "dev_a", units: 1n },
        { deviceId: "dev_b", units: 1n },
      ]),
    ).toEqual([3n, 4n, 3n]);
    // 100 × 2/7 = 28.57, 100 × 5/7 = 71.43: the larger remainder (0.57) gets the micro-unit.
    expect(
      allocatePool(100n, [
        { deviceId: "dev_z", units: 2n },
        { deviceId: "dev_y", units: 5n },
      ]),
    ).toEqual([29n, 71n]);
  });

  it("always sums to the pool, and never moves an amount more than one unit off its exact share", () => {
    const share = fc.record({
      deviceId: fc.string({ maxLength: 8 }),
      units: fc.bigInt({ min: 0n, max: 10n ** 9n }),
    });
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 18n }),
        fc.array(share, { minLength: 1, maxLength: 60 }),
        (pool, shares) => {
          const total = shares.reduce((s, x) => s + x.units, 0n);
          const amounts = allocatePool(pool, shares);
          if (total === 0n) {
            expect(amounts.every((a) => a === 0n)).toBe(true);
            return;
          }
          expect(amounts.reduce((s, a) => s + a, 0n)).toBe(pool);
          shares.forEach((s, i) => {
            const floor = (pool * s.units) / total;
            expect(amounts[i]! - floor >= 0n && amounts[i]! - floor <= 1n).toBe(true);
          });
        },
      ),
    );
  });

  it("refuses a negative pool", () => {
    expect(() => allocatePool(-1n, [{ deviceId: "dev_a", units: 1n }])).toThrow(RangeError);
  });
});

describe("allocatePool with a denominator beyond 2^53", () => {
  it("still gives the leftovers to the largest remainders, ties to the smaller device id", () => {
    const big = 2n ** 60n;
    const amounts = allocatePool(10n, [
      { deviceId: "dev_b", units: big },
      { deviceId: "dev_a", units: big },
      { deviceId: "dev_c", units: big + 1n },
    ]);
    expect(amounts.reduce((s, a) => s + a, 0n)).toBe(10n);
    expect(amounts).toEqual([3n, 3n, 4n]);
  });
});
