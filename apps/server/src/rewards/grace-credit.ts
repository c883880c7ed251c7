import { type ExpressionBuilder, sql } from "kysely";
import type { Db } from "../db/database.js";
import type { Database } from "../db/schema.js";
import { epochEndMs, epochStartMs, slotMasks } from "./epoch-clock.js";
import type { MaintenanceWindow } from "./maintenance-windows.js";

/**
 * Credits a maintenance window's slots in one epoch to the devices that deserve them, as `credited_mask` bits
 * of their uptime rows (a row is created when the device has none in that epoch). A device qualifies when its
 * measured `minute_mask` shows a heartbeat in the `leadMinutes` before the window, and another in
 * [end, end + grace): it was online, and came back in time. Devices that never return get nothing for the
 * window. Everything is derived from stored uptime, so applying it twice changes nothing (a bitwise OR) and a
 * recompute sees the same bits. Returns the number of devices credited.
 */
export async function applyGraceCredits(
  trx: Db,
  epoch: number,
  epochSeconds: number,
  windows: readonly MaintenanceWindow[],
): Promise<number> {
  let credited = 0;
  for (const window of windows) {
    const from = Math.max(window.startsAt.getTime(), epochStartMs(epoch, epochSeconds));
    const to = Math.min(window.endsAt.getTime(), epochEndMs(epoch, epochSeconds));
    const mask = slotMasks(from, to, epochSeconds).get(epoch);
    if (!mask) continue;
    const start = window.startsAt.getTime();
    const end = window.endsAt.getTime();
    const before = slotMasks(start - window.leadMinutes * 60_000, start, epochSeconds);
    const after = slotMasks(end, end + Math.max(window.graceMinutes * 60_000, 1), epochSeconds);
    const result = await trx
      .insertInto("uptime")
      .columns(["device_id", "epoch", "minute_mask", "up_minutes", "credited_mask"])
      .expression(
        trx
          .selectFrom("uptime")
          .select([
            "device_id",
            sql<string>`${epoch}::bigint`.as("epoch"),
            sql<string>`0::bigint`.as("minute_mask"),
            sql<number>`0`.as("up_minutes"),
            sql<string>`${mask.toString()}::bigint`.as("credited_mask"),
          ])
          .where((eb) => seenIn(eb, before))
          .where(
            "device_id",
            "in",
            trx
              .selectFrom("uptime")
              .select("device_id")
              .where((eb) => seenIn(eb, after)),
          )
          .groupBy("device_id"),
      )
      .onConflict((oc) =>
        oc
          .columns(["epoch", "device_id"])
          .doUpdateSet({ credited_mask: sql`uptime.credited_mask | excluded.credited_mask` }),
      )
      .executeTakeFirst();
    credited += Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
  return credited;
}

/** A device had a measured heartbeat in one of these (epoch, slot mask) pairs. */
function seenIn(eb: ExpressionBuilder<Database, "uptime">, masks: Map<number, bigint>) {
  return eb.or(
    [...masks].map(([epoch, mask]) =>
      eb.and([
        eb("epoch", "=", String(epoch)),
        eb(sql`minute_mask & ${mask.toString()}::bigint`, "<>", sql`0`),
      ]),
    ),
  );
}
