import { createHash, randomBytes } from "node:crypto";

/** Returns `length` random bytes; the seam that lets tests and benchmarks replay a run exactly. */
export type RandomSource = (length: number) => Uint8Array;

/** The operating system's CSPRNG: what production uses for seeds, challenge ids, r and row choices. */
export const cryptoRandom: RandomSource = (length) => randomBytes(length);

/** A deterministic stream (SHA-256 in counter mode over `label`), for tests and benchmarks only. */
export function seededRandom(label: string): RandomSource {
  const key = new TextEncoder().encode(label);
  let counter = 0;
  let pool = new Uint8Array(0);
  return (length) => {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (pool.length === 0) {
        const block = new Uint8Array(key.length + 4);
        block.set(key);
        new DataView(block.buffer).setUint32(key.length, counter++);
        pool = createHash("sha256").update(block).digest();
      }
      const take = Math.min(pool.length, length - filled);
      out.set(pool.subarray(0, take), filled);
      pool = pool.subarray(take);
      filled += take;
    }
    return out;
  };
}

/** A uniform integer in [0, bound) from `random`, by rejection (no modulo bias); bound ≤ 2^48. */
export function randomBelow(random: RandomSource, bound: number): number {
  if (!Number.isInteger(bound) || bound < 1 || bound > 2 ** 48)
    throw new RangeError("bound must be in 1..2^48");
  const limit = Math.floor(2 ** 48 / bound) * bound;
  for (;;) {
    const b = random(6);
    const value = b[0] + b[1] * 2 ** 8 + b[2] * 2 ** 16 + b[3] * 2 ** 24 + b[4] * 2 ** 32 + b[5] * 2 ** 40;
    if (value < limit) return value % bound;
  }
}
