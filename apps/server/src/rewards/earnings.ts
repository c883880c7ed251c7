import type { EarningsView } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { accountOf } from "../ledger/accounts.js";
import { balanceOf } from "../ledger/balances.js";

/** Which earnings to read: a supplier's, optionally one device's, a page at a time. */
export interface EarningsQuery {
  userId: string;
  deviceId?: string | undefined;
  /** `epoch:deviceId` of the last item of the previous page. */
  cursor?: string | undefined;
  limit: number;
}

/**
 * A supplier's earnings: the balance of their supplier-earnings ledger account, each device's total, and
 * per-epoch rewards newest first. Only rewards whose owner at close time was this user are read.
 */
export async function getEarnings(db: Db, query: EarningsQuery): Promise<EarningsView> {
  let totals = db
    .selectFrom("rewards")
    .select([
      "device_id",
      sql<string>`sum(amount)::text`.as("total"),
      sql<number>`count(*)::int`.as("epochs"),
    ])
    .where("owner_id", "=", query.userId)
    .groupBy("device_id")
    .orderBy("device_id");
  let items = db
    .selectFrom("rewards as r")
    .innerJoin("reward_epochs as e", "e.epoch", "r.epoch")
    .select([
      sql<string>`r.epoch::text`.as("epoch"),
      "e.starts_at",
      "r.device_id",
      sql<string>`r.amount::text`.as("amount"),
      "r.up_minutes",
      "r.weight",
    ])
    .where("r.owner_id", "=", query.userId)
    .orderBy("r.epoch", "desc")
    .orderBy("r.device_id")
    .limit(query.limit);
  if (query.deviceId) {
    totals = totals.where("device_id", "=", query.deviceId);
    items = items.where("r.device_id", "=", query.deviceId);
  }
  if (query.cursor) {
    const [epoch, deviceId] = query.cursor.split(":") as [string, string];
    items = items.where((eb) =>
      eb.or([
        eb("r.epoch", "<", epoch),
        eb.and([eb("r.epoch", "=", epoch), eb("r.device_id", ">", deviceId)]),
      ]),
    );
  }
  const [deviceRows, itemRows, balance] = [
    await totals.execute(),
    await items.execute(),
    await balanceOf(db, accountOf("supplier_earnings", query.userId)),
  ];
  const last = itemRows.at(-1);
  return {
    balance: balance.toString(),
    total: deviceRows.reduce((sum, d) => sum + BigInt(d.total), 0n).toString(),
    devices: deviceRows.map((d) => ({ deviceId: d.device_id, total: d.total, epochs: d.epochs })),
    items: itemRows.map((r) => ({
      epoch: Number(r.epoch),
      epochStartsAt: new Date(r.starts_at).toISOString(),
      deviceId: r.device_id,
      amount: r.amount,
      upMinutes: r.up_minutes,
      weight: r.weight,
    })),
    nextCursor: itemRows.length === query.limit && last ? `${last.epoch}:${last.device_id}` : null,
  };
}
