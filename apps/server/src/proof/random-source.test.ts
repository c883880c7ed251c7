import { describe, expect, it } from "vitest";
import { cryptoRandom, randomBelow, seededRandom } from "./random-source.js";

describe("random sources", () => {
  it("replay a seeded stream exactly and differ between labels", () => {
    const a = seededRandom("x");
    const b = seededRandom("x");
    expect(Array.from(a(50))).toEqual(Array.from(b(50)));
    expect(Array.from(seededRandom("y")(50))).not.toEqual(Array.from(seededRandom("x")(50)));
  });

  it("give fresh bytes from the CSPRNG", () => {
    expect(cryptoRandom(32)).toHaveLength(32);
    expect(Array.from(cryptoRandom(32))).not.toEqual(Array.from(cryptoRandom(32)));
  });

  it("draw integers below a bound about uniformly", () => {
    const random = seededRandom("uniform");
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) counts[randomBelow(random, 10)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
    expect(() => randomBelow(random, 0)).toThrow(RangeError);
  });
});
