/** One device's claim on an epoch's pool: its weight × up-minutes ("units"). */
export interface Share {
  deviceId: string;
  units: bigint;
}

/**
 * Splits `pool` in proportion to each share's units, exactly: amount = floor(pool × units / Σ units), then
 * the micro-units left by rounding go one each to the shares with the largest remainders, ties to the smaller
 * device id (largest remainder method). The amounts always sum to the pool; with no units at all, nothing is
 * allocated. Amounts come back in the order of `shares`.
 */
export function allocatePool(pool: bigint, shares: readonly Share[]): bigint[] {
  if (pool < 0n) throw new RangeError("a pool cannot be negative");
  let total = 0n;
  for (const share of shares) {
    if (share.units < 0n) throw new RangeError("units cannot be negative");
    total += share.units;
  }
  if (total === 0n) return shares.map(() => 0n);
  const amounts: bigint[] = new Array(shares.length);
  const remainders: bigint[] = new Array(shares.length);
  let allocated = 0n;
  for (let i = 0; i < shares.length; i++) {
    const product = pool * shares[i]!.units;
    amounts[i] = product / total;
    remainders[i] = product % total;
    allocated += amounts[i]!;
  }
  const leftover = Number(pool - allocated); // fewer than shares.length, since each share lost less than 1
  if (leftover > 0) {
    for (const i of largestRemainders(shares, remainders, total, leftover)) amounts[i]! += 1n;
  }
  return amounts;
}

/** Indices of the `count` largest remainders, ties to the smaller device id. */
function largestRemainders(
  shares: readonly Share[],
  remainders: bigint[],
  total: bigint,
  count: number,
): Uint32Array {
  const order = new Uint32Array(shares.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const rank = idRanks(shares);
  if (total <= BigInt(Number.MAX_SAFE_INTEGER)) {
    // Every remainder is below the total, so as a double it is exact: compare numbers, not BigInts.
    const key = new Float64Array(shares.length);
    for (let i = 0; i < key.length; i++) key[i] = Number(remainders[i]!);
    order.sort((a, b) => key[b]! - key[a]! || rank[a]! - rank[b]!);
  } else {
    const r = remainders;
    order.sort((a, b) => (r[a]! > r[b]! ? -1 : r[a]! < r[b]! ? 1 : rank[a]! - rank[b]!));
  }
  return order.subarray(0, count);
}

/** Each share's position in device-id order; free when the shares come sorted (as an epoch's do). */
function idRanks(shares: readonly Share[]): Uint32Array {
  const rank = new Uint32Array(shares.length);
  let sorted = true;
  for (let i = 1; i < shares.length && sorted; i++) sorted = shares[i - 1]!.deviceId <= shares[i]!.deviceId;
  if (sorted) {
    for (let i = 0; i < rank.length; i++) rank[i] = i;
    return rank;
  }
  const byId = Array.from(shares.keys()).sort((a, b) => {
    const ia = shares[a]!.deviceId;
    const ib = shares[b]!.deviceId;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
  byId.forEach((share, position) => {
    rank[share] = position;
  });
  return rank;
}
