import { describe, expect, it } from "vitest";
import {
  B_MATRIX_INDEX,
  ENTRY_MIN,
  entryAt,
  fillARow,
  fillBRow,
  fillRow,
  fmix32,
  rowKey,
  seedState,
} from "./generator.js";
import { fromHex } from "./hex.js";
import { proofTestVectors } from "./test-vectors.js";

describe("the proof matrix generator", () => {
  it("uses the murmur3 32-bit finaliser", () => {
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1)).toBe(0x514e28b7);
    expect(fmix32(0xdeadbeef)).toBe(0x0de5c6a9);
  });

  it("reproduces the sampled entries and the first row of every test vector", () => {
    for (const v of proofTestVectors) {
      const seed = seedState(fromHex(v.seed));
      const bSeed = seedState(fromHex(v.bSeed));
      for (const e of v.aEntries) expect(entryAt(rowKey(seed, e.matrix, e.row), e.col)).toBe(e.value);
      for (const e of v.bEntries) {
        expect(e.matrix).toBe(B_MATRIX_INDEX);
        expect(fillBRow(new Int8Array(v.n), bSeed, e.row)[e.col]).toBe(e.value);
      }
      expect(Array.from(fillARow(new Int8Array(v.inner), seed, 0, 0))).toEqual(v.aRow0);
    }
  });

  it("fills a row with exactly the entries entryAt gives one by one", () => {
    const state = seedState(new Uint8Array(32).fill(7));
    const row = fillRow(new Int8Array(64), state, 3, 11);
    const key = rowKey(state, 3, 11);
    expect(Array.from(row)).toEqual(Array.from({ length: 64 }, (_, j) => entryAt(key, j)));
  });

  it("draws every value of -16..15 about equally often", () => {
    const state = seedState(new Uint8Array(32).fill(1));
    const counts = new Array(32).fill(0);
    const row = new Int8Array(1024);
    for (let i = 0; i < 64; i++) for (const v of fillRow(row, state, 0, i)) counts[v - ENTRY_MIN]++;
    const expected = (64 * 1024) / 32;
    for (const c of counts) expect(Math.abs(c - expected)).toBeLessThan(expected * 0.1);
  });

  it("gives different rows for different seeds, matrices and rows", () => {
    const a = seedState(new Uint8Array(32));
    const b = seedState(Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 0)));
    const row = (s: typeof a, m: number, i: number) => Array.from(fillRow(new Int8Array(32), s, m, i));
    expect(row(a, 0, 0)).not.toEqual(row(b, 0, 0));
    expect(row(a, 0, 0)).not.toEqual(row(a, 1, 0));
    expect(row(a, 0, 0)).not.toEqual(row(a, 0, 1));
    expect(row(a, 0, 0)).toEqual(row(a, 0, 0));
  });

  it("refuses seeds that are not 32 bytes and rows that are not whole groups of four", () => {
    expect(() => seedState(new Uint8Array(31))).toThrow(RangeError);
    expect(() => fillRow(new Int8Array(6), seedState(new Uint8Array(32)), 0, 0)).toThrow(RangeError);
  });
});
