import { fillBRow, seedState } from "@ignis/protocol/proof";
import { describe, expect, it } from "vitest";
import { seededRandom } from "./random-source.js";
import { createVerifierKey, createVerifierKeyring } from "./verifier-key.js";

describe("verifier keys", () => {
  it("hold B·r for their own B and secret r, with r below 2^16", () => {
    const key = createVerifierKey({ n: 32, inner: 48 }, 0, seededRandom("key"));
    expect(key.r.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 16)).toBe(true);
    const row = new Int8Array(32);
    for (let l = 0; l < 48; l++) {
      fillBRow(row, seedState(key.bSeed), l);
      expect(key.br[l]).toBe(row.reduce((sum, b, j) => sum + b * key.r[j], 0));
    }
  });

  it("are reused within the rotation period and replaced after it, per shape", () => {
    const keyring = createVerifierKeyring({ rotationMs: 1000, random: seededRandom("ring") });
    const shape = { n: 16, inner: 32 };
    const first = keyring.keyFor(shape, 0);
    expect(keyring.keyFor(shape, 999)).toBe(first);
    expect(keyring.keyFor({ n: 32, inner: 32 }, 10)).not.toBe(first);
    const rotated = keyring.keyFor(shape, 1000);
    expect(rotated).not.toBe(first);
    expect(Array.from(rotated.bSeed)).not.toEqual(Array.from(first.bSeed));
  });
});
