import { freivaldsVector, multiplyBByVector, seedState } from "@ignis/protocol/proof";
import { cryptoRandom, type RandomSource } from "./random-source.js";

/**
 * The server's secret half of Freivalds' check for one challenge shape: the seed of the shared matrix B
 * (public, sent in every challenge), a secret random vector r and B·r. Computing B·r costs O(inner·n) once;
 * every challenge that uses the key then costs the server only O(k·(inner + n)). r never leaves the server.
 */
export interface VerifierKey {
  readonly id: string;
  readonly n: number;
  readonly inner: number;
  readonly bSeed: Uint8Array;
  readonly r: Float64Array;
  readonly br: Float64Array;
  readonly createdAtMs: number;
}

/** Draws bSeed and r and computes B·r. */
export function createVerifierKey(
  shape: { n: number; inner: number },
  nowMs: number,
  random: RandomSource = cryptoRandom,
): VerifierKey {
  const bSeed = random(32);
  const r = freivaldsVector(shape.n, random(2 * shape.n));
  const br = multiplyBByVector(seedState(bSeed), shape.inner, r);
  const id = Buffer.from(random(8)).toString("hex");
  return { id, n: shape.n, inner: shape.inner, bSeed, r, br, createdAtMs: nowMs };
}

/** Hands out the current key per shape and replaces keys older than the rotation period. */
export interface VerifierKeyring {
  keyFor(shape: { n: number; inner: number }, nowMs: number): VerifierKey;
}

/**
 * An in-memory keyring. Rotation bounds what a worker can learn about r from pass/fail answers (docs:
 * "Why B and r are shared"); challenges keep a reference to their own key, so rotation never breaks one.
 */
export function createVerifierKeyring(
  options: { rotationMs?: number; random?: RandomSource } = {},
): VerifierKeyring {
  const rotationMs = options.rotationMs ?? 3_600_000;
  const keys = new Map<string, VerifierKey>();
  return {
    keyFor(shape, nowMs) {
      const id = `${shape.n}x${shape.inner}`;
      const current = keys.get(id);
      if (current && nowMs - current.createdAtMs < rotationMs) return current;
      const key = createVerifierKey(shape, nowMs, options.random);
      keys.set(id, key);
      return key;
    },
  };
}
