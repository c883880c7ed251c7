import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { creditsOf, microUnitsOfCredits } from "./credits.js";

describe("credits", () => {
  it("shows micro-units as credits with only the decimals that matter", () => {
    expect(creditsOf("50000000")).toBe("50");
    expect(creditsOf(1_250_000n)).toBe("1.25");
    expect(creditsOf("1")).toBe("0.000001");
    expect(creditsOf("-5")).toBe("-0.000005");
    expect(creditsOf("0")).toBe("0");
  });

  it("reads what a person types as exact micro-units", () => {
    expect(microUnitsOfCredits("50")).toBe(50_000_000n);
    expect(microUnitsOfCredits("1.25")).toBe(1_250_000n);
    expect(microUnitsOfCredits("0.000001")).toBe(1n);
  });

  it("refuses signs, exponents, too many decimals and empty input", () => {
    for (const bad of ["-1", "1e6", "0.0000001", "", ".5", "5.", "1,000", "Infinity"]) {
      expect(microUnitsOfCredits(bad)).toBeUndefined();
    }
  });

  it("reads back every amount it shows", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 24n }), (micro) => {
        expect(microUnitsOfCredits(creditsOf(micro))).toBe(micro);
      }),
    );
  });
});
