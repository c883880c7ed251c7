/**
 * Epochs and minute slots. Epoch = floor(t / epochSeconds). Every epoch has exactly 60 slots of length
 * epochSeconds / 60: a minute for the default one-hour epoch, a second for a 60-second test epoch. For epochs
 * longer than an hour a slot is longer than a minute, so the 60 slots always fit the 64-bit `minute_mask`.
 */

/** Slots per epoch; bit i of `minute_mask` is slot i. */
export const SLOTS_PER_EPOCH = 60;

/** The epoch containing time `ms` (milliseconds since the Unix epoch). */
export function epochOf(ms: number, epochSeconds: number): number {
  return Math.floor(ms / (epochSeconds * 1000));
}

/** The slot (0..59) of time `ms` inside its epoch; integer arithmetic, so slot edges are exact. */
export function slotOf(ms: number, epochSeconds: number): number {
  const epochMs = epochSeconds * 1000;
  const into = ms - Math.floor(ms / epochMs) * epochMs;
  return Math.min(SLOTS_PER_EPOCH - 1, Math.floor((into * SLOTS_PER_EPOCH) / epochMs));
}

/** A 60-bit mask from its low 32 and high 28 bits, as the decimal string a bigint column takes. */
export function maskToString(lo: number, hi: number): string {
  return ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
}

/** Number of set bits in a 32-bit integer. */
export function popcount32(x: number): number {
  let v = x >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** The slots set in a stored mask, in ascending order. */
export function slotsOfMask(mask: string | bigint): number[] {
  const m = BigInt(mask);
  const out: number[] = [];
  for (let i = 0; i < SLOTS_PER_EPOCH; i++) if ((m >> BigInt(i)) & 1n) out.push(i);
  return out;
}
