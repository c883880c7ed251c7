import { describe, expect, it } from "vitest";
import {
  aRowDot,
  freivaldsVector,
  MAX_PROOF_CELLS,
  maxProductMagnitude,
  multiplyBByVector,
  rowDot,
  rowPassesFreivalds,
  rowWithinBounds,
} from "./freivalds.js";
import { fillARow, fillBRow, seedState } from "./generator.js";
import { referenceProductRow } from "./reference-product.js";

const bytes = (label: number, length: number) =>
  Uint8Array.from({ length }, (_, i) => (i * 167 + label * 31 + 11) & 0xff);
const seed = seedState(bytes(1, 32));
const bSeed = seedState(bytes(2, 32));
const shape = { n: 32, inner: 48 };
const r = freivaldsVector(shape.n, bytes(3, 2 * shape.n));
const br = multiplyBByVector(bSeed, shape.inner, r);

describe("Freivalds' row check", () => {
  it("accepts every correct row", () => {
    for (let m = 0; m < 3; m++) {
      for (let i = 0; i < shape.n; i++) {
        expect(rowPassesFreivalds(seed, m, i, referenceProductRow(seed, bSeed, shape, m, i), r, br)).toBe(
          true,
        );
      }
    }
  });

  it("catches a single wrong entry in any position", () => {
    const row = referenceProductRow(seed, bSeed, shape, 1, 5);
    for (let j = 0; j < shape.n; j++) {
      const wrong = Int32Array.from(row);
      wrong[j] += 1;
      expect(r[j]).not.toBe(0);
      expect(rowPassesFreivalds(seed, 1, 5, wrong, r, br)).toBe(false);
    }
  });

  it("computes B·r row by row exactly as the dense product would", () => {
    const b = new Int8Array(shape.n);
    for (let l = 0; l < shape.inner; l++) {
      fillBRow(b, bSeed, l);
      let expected = 0;
      for (let j = 0; j < shape.n; j++) expected += b[j] * r[j];
      expect(br[l]).toBe(expected);
    }
    const a = fillARow(new Int8Array(shape.inner), seed, 2, 9);
    expect(aRowDot(seed, 2, 9, br)).toBe(a.reduce((sum, v, l) => sum + v * br[l], 0));
  });

  it("stays exact at the largest magnitudes the bounds allow", () => {
    // n · inner = 2^29 with every factor at its maximum: the double sums must equal the BigInt sums.
    const n = 1 << 13;
    const inner = MAX_PROOF_CELLS / n;
    const worstR = new Float64Array(n).fill(2 ** 16 - 1);
    const worstC = new Array(n).fill(-maxProductMagnitude(inner));
    const exact = BigInt(n) * BigInt(-maxProductMagnitude(inner)) * BigInt(2 ** 16 - 1);
    expect(BigInt(rowDot(worstC, worstR))).toBe(exact);
    expect(Math.abs(Number(exact))).toBeLessThanOrEqual(2 ** 53);
    const worstBr = new Float64Array(inner).fill(16 * n * (2 ** 16 - 1));
    const a = fillARow(new Int8Array(inner), seed, 0, 0);
    const exactA = a.reduce((sum, v) => sum + BigInt(v) * BigInt(worstBr[0]), 0n);
    expect(BigInt(aRowDot(seed, 0, 0, worstBr))).toBe(exactA);
  });

  it("refuses revealed rows of the wrong length, with fractions or beyond the product's range", () => {
    const row = Array.from(referenceProductRow(seed, bSeed, shape, 0, 0));
    expect(rowWithinBounds(row, shape.n, shape.inner)).toBe(true);
    expect(rowWithinBounds(row.slice(1), shape.n, shape.inner)).toBe(false);
    expect(rowWithinBounds([0.5, ...row.slice(1)], shape.n, shape.inner)).toBe(false);
    expect(
      rowWithinBounds([maxProductMagnitude(shape.inner) + 1, ...row.slice(1)], shape.n, shape.inner),
    ).toBe(false);
    expect(rowWithinBounds([Number.NaN, ...row.slice(1)], shape.n, shape.inner)).toBe(false);
  });

  it("refuses shapes beyond the exact-arithmetic bounds", () => {
    expect(() => multiplyBByVector(bSeed, 1 << 17, new Float64Array(16))).toThrow(RangeError);
  });
});
