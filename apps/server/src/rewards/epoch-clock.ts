/** Minute slots per epoch: the uptime bitmask has one bit per slot (a slot lasts epochSeconds / 60). */
export const SLOTS_PER_EPOCH = 60;

/** The epoch a moment (milliseconds since 1970) falls in: floor(unix seconds / epochSeconds). */
export function epochAt(ms: number, epochSeconds: number): number {
  return Math.floor(ms / 1000 / epochSeconds);
}

/** When an epoch starts, in milliseconds since 1970. */
export function epochStartMs(epoch: number, epochSeconds: number): number {
  return epoch * epochSeconds * 1000;
}

/** When an epoch ends (exclusive), in milliseconds since 1970. */
export function epochEndMs(epoch: number, epochSeconds: number): number {
  return (epoch + 1) * epochSeconds * 1000;
}

/**
 * The slots that intersect the time range [startMs, endMs), as one bitmask per epoch. Slot g (counted from
 * 1970) covers [g, g + 1) × epochSeconds / 60 seconds; integer arithmetic keeps the boundaries exact.
 */
export function slotMasks(startMs: number, endMs: number, epochSeconds: number): Map<number, bigint> {
  const masks = new Map<number, bigint>();
  if (endMs <= startMs) return masks;
  const perSlot = epochSeconds * 1000;
  const first = Math.floor((startMs * SLOTS_PER_EPOCH) / perSlot);
  const last = Math.ceil((endMs * SLOTS_PER_EPOCH) / perSlot) - 1;
  for (let g = first; g <= last; g++) {
    const epoch = Math.floor(g / SLOTS_PER_EPOCH);
    const bit = 1n << BigInt(g - epoch * SLOTS_PER_EPOCH);
    masks.set(epoch, (masks.get(epoch) ?? 0n) | bit);
  }
  return masks;
}

/** The number of set bits of a slot mask. */
export function popcount(mask: bigint): number {
  let count = 0;
  for (let m = mask; m > 0n; m >>= 1n) if (m & 1n) count++;
  return count;
}
