import pg from "pg";

/** Slots per epoch (apps/server/src/rewards/epoch-clock.ts). */
const SLOTS_PER_EPOCH = 60;

/** The global slot numbers (counted from 1970) that lie wholly inside [fromMs, toMs). */
export function slotsWithin(fromMs: number, toMs: number, epochSeconds: number): number[] {
  const slotMs = (epochSeconds * 1000) / SLOTS_PER_EPOCH;
  const first = Math.ceil(fromMs / slotMs);
  const last = Math.floor(toMs / slotMs) - 1;
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
}

/**
 * For each device, how many slots of [fromMs, toMs) its stored uptime lacks: what a fault cost it, read from
 * the `uptime` table the way rewards will read it.
 */
export async function missingSlots(
  databaseUrl: string,
  deviceIds: string[],
  fromMs: number,
  toMs: number,
  epochSeconds: number,
): Promise<Map<string, number>> {
  const wanted = slotsWithin(fromMs, toMs, epochSeconds);
  const epochs = [...new Set(wanted.map((g) => Math.floor(g / SLOTS_PER_EPOCH)))];
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ device_id: string; epoch: string; minute_mask: string }>(
      "select device_id, epoch, minute_mask from uptime where device_id = any($1) and epoch = any($2)",
      [deviceIds, epochs.map(String)],
    );
    const masks = new Map(rows.map((r) => [`${r.device_id}/${r.epoch}`, BigInt(r.minute_mask)]));
    const missing = new Map<string, number>();
    for (const id of deviceIds) {
      let count = 0;
      for (const g of wanted) {
        const epoch = Math.floor(g / SLOTS_PER_EPOCH);
        const mask = masks.get(`${id}/${epoch}`) ?? 0n;
        if (((mask >> BigInt(g - epoch * SLOTS_PER_EPOCH)) & 1n) === 0n) count++;
      }
      missing.set(id, count);
    }
    return missing;
  } finally {
    await client.end();
  }
}
