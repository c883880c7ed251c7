import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  chargeFor,
  deviceRatePerHour,
  escrowFor,
  feeOn,
  parseMicroUnits,
  settlementStep,
} from "./billing.js";

describe("billing arithmetic", () => {
  it("charges a rate per hour by the metered minute, rounding down", () => {
    expect(chargeFor(1_200_000n, 5)).toBe(100_000n);
    expect(chargeFor(1_000_000n, 1)).toBe(16_666n);
    expect(chargeFor(1_000_000n, 60)).toBe(1_000_000n);
  });

  it("takes a 10% fee in integers and gives the supplier the rest", () => {
    const step = settlementStep(1_200_000n, 1000, 0, 7);
    expect(step).toEqual({ minutes: 7, charge: 140_000n, fee: 14_000n, supplierShare: 126_000n });
  });

  it("prices a device by its GPU count and sizes escrow by devices and hours", () => {
    expect(deviceRatePerHour(500_000n, 8)).toBe(4_000_000n);
    expect(deviceRatePerHour(500_000n, 0)).toBe(500_000n);
    expect(escrowFor(4_000_000n, 3, 2)).toBe(24_000_000n);
  });

  it("settles in hourly steps to exactly what one final settlement would move", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 12 }),
        (rate, feeBps, increments) => {
          let settled = 0;
          let charge = 0n;
          let fee = 0n;
          let supplier = 0n;
          for (const inc of increments) {
            const step = settlementStep(rate, feeBps, settled, settled + inc);
            expect(step.fee).toBeGreaterThanOrEqual(0n);
            expect(step.supplierShare).toBeGreaterThanOrEqual(0n);
            settled += inc;
            charge += step.charge;
            fee += step.fee;
            supplier += step.supplierShare;
          }
          const whole = settlementStep(rate, feeBps, 0, settled);
          expect([charge, fee, supplier]).toEqual([whole.charge, whole.fee, whole.supplierShare]);
          expect(charge).toBe(fee + supplier);
          expect(feeOn(charge, feeBps)).toBe(fee);
        },
      ),
    );
  });

  it("never charges a rank more than its escrow share, whatever the minutes up to the rental's length", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.integer({ min: 1, max: 720 }),
        (rate, hours) => {
          expect(chargeFor(rate, hours * 60)).toBeLessThanOrEqual(escrowFor(rate, 1, hours));
        },
      ),
    );
  });

  it("accepts amounts as decimal strings or safe integers and refuses fractions, negatives and zero", () => {
    expect(parseMicroUnits("1500000", "invalid_amount")).toBe(1_500_000n);
    expect(parseMicroUnits(42, "invalid_amount")).toBe(42n);
    expect(parseMicroUnits(0, "invalid_price", { allowZero: true })).toBe(0n);
    for (const bad of ["1.5", "-3", "", "1e6", 1.5, -1, 0, "0", "99999999999999999999"]) {
      expect(() => parseMicroUnits(bad, "invalid_amount")).toThrow(
        expect.objectContaining({ code: "invalid_amount" }),
      );
    }
  });
});
