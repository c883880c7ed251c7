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
    const order = Array.from(shares.keys()).sort((a, b) => {
      const ra = remainders[a]!;
      const rb = remainders[b]!;
      if (ra !== rb) return ra > rb ? -1 : 1;
      const ia = shares[a]!.deviceId;
      const ib = shares[b]!.deviceId;
      return ia < ib ? -1 : ia > ib ? 1 : 0;
    });
    for (let k = 0; k < leftover; k++) amounts[order[k]!]! += 1n;
  }
  return amounts;
}
