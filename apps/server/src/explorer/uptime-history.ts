import type { UptimeDay, UptimeEpoch } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import {
  dayAt,
  dayStartMs,
  epochAt,
  epochStartMs,
  isoDay,
  overlapSlots,
  share,
  slotsPerEpoch,
} from "./epoch-window.js";

const HOUR_MS = 3_600_000;
/** Epochs shown in the recent-activity chart. */
const RECENT_EPOCHS = 48;
/** Days shown in the uptime chart. */
const CHART_DAYS = 30;

/** A device's age, which bounds what uptime was possible. */
export interface DeviceSince {
  id: string;
  created_at: Date;
}

/** Uptime share over a window that starts at the beginning of the epoch containing `now - windowMs`. */
function windowStart(now: number, windowMs: number, epochSeconds: number) {
  const epoch = epochAt(now - windowMs, epochSeconds);
  return { epoch, startMs: epochStartMs(epoch, epochSeconds) };
}

/** 24-hour uptime shares of many devices in one query (the explorer table). */
export async function uptime24hOf(
  db: Db,
  devices: readonly DeviceSince[],
  now: number,
  epochSeconds: number,
): Promise<Map<string, number>> {
  const shares = new Map<string, number>();
  if (devices.length === 0) return shares;
  const w = windowStart(now, 24 * HOUR_MS, epochSeconds);
  const rows = await db
    .selectFrom("uptime")
    .select(["device_id", sql<string>`sum(up_minutes)`.as("up")])
    .where(
      "device_id",
      "in",
      devices.map((d) => d.id),
    )
    .where("epoch", ">=", String(w.epoch))
    .groupBy("device_id")
    .execute();
  const up = new Map(rows.map((r) => [r.device_id, Number(r.up)]));
  for (const d of devices) {
    const possible = overlapSlots(w.startMs, now, new Date(d.created_at).getTime(), now, epochSeconds);
    shares.set(d.id, share(up.get(d.id) ?? 0, possible));
  }
  return shares;
}

/** Everything the device page shows about uptime. */
export interface UptimeHistory {
  uptime24h: number;
  uptime7d: number;
  uptime30d: number;
  daily: UptimeDay[];
  epochs: UptimeEpoch[];
}

/** One device's uptime over 24 h, 7 d and 30 d, per day for the chart and per recent epoch. */
export async function uptimeHistoryOf(
  db: Db,
  device: DeviceSince,
  now: number,
  epochSeconds: number,
): Promise<UptimeHistory> {
  if (!Number.isInteger(epochSeconds) || epochSeconds <= 0)
    throw new Error("epochSeconds must be an integer");
  const since = new Date(device.created_at).getTime();
  const w1 = windowStart(now, 24 * HOUR_MS, epochSeconds);
  const w7 = windowStart(now, 7 * 24 * HOUR_MS, epochSeconds);
  const w30 = windowStart(now, 30 * 24 * HOUR_MS, epochSeconds);
  const today = dayAt(now);
  const firstDay = today - (CHART_DAYS - 1);
  const firstDayEpoch = epochAt(dayStartMs(firstDay), epochSeconds);
  const current = epochAt(now, epochSeconds);
  const firstRecent = current - (RECENT_EPOCHS - 1);
  // The epoch length is a validated integer from config, inlined so SELECT and GROUP BY are one expression.
  const dayOfEpoch = sql<string>`(epoch * ${sql.lit(epochSeconds)}) / 86400`;

  const [totals, days, recent] = await Promise.all([
    db
      .selectFrom("uptime")
      .select([
        sql<string>`coalesce(sum(up_minutes) filter (where epoch >= ${w1.epoch}), 0)`.as("d1"),
        sql<string>`coalesce(sum(up_minutes) filter (where epoch >= ${w7.epoch}), 0)`.as("d7"),
        sql<string>`coalesce(sum(up_minutes), 0)`.as("d30"),
      ])
      .where("device_id", "=", device.id)
      .where("epoch", ">=", String(w30.epoch))
      .executeTakeFirstOrThrow(),
    db
      .selectFrom("uptime")
      .select([dayOfEpoch.as("day"), sql<string>`sum(up_minutes)`.as("up")])
      .where("device_id", "=", device.id)
      .where("epoch", ">=", String(Math.min(firstDayEpoch, w30.epoch)))
      .groupBy(dayOfEpoch)
      .execute(),
    db
      .selectFrom("uptime")
      .select(["epoch", "up_minutes"])
      .where("device_id", "=", device.id)
      .where("epoch", ">=", String(firstRecent))
      .execute(),
  ]);

  const byDay = new Map(days.map((r) => [Number(r.day), Number(r.up)]));
  const daily: UptimeDay[] = [];
  for (let day = firstDay; day <= today; day++) {
    const possible = overlapSlots(dayStartMs(day), dayStartMs(day + 1), since, now, epochSeconds);
    // Epochs straddling midnight are counted whole on their first day, so cap at what that day allowed.
    daily.push({
      day: isoDay(day),
      upMinutes: Math.min(byDay.get(day) ?? 0, possible),
      possibleMinutes: possible,
    });
  }
  const byEpoch = new Map(recent.map((r) => [Number(r.epoch), r.up_minutes]));
  const slots = slotsPerEpoch(epochSeconds);
  const epochs: UptimeEpoch[] = [];
  for (let epoch = firstRecent; epoch <= current; epoch++) {
    const start = epochStartMs(epoch, epochSeconds);
    const possible = Math.min(
      slots,
      overlapSlots(start, epochStartMs(epoch + 1, epochSeconds), since, now, epochSeconds),
    );
    epochs.push({
      epoch,
      startsAt: new Date(start).toISOString(),
      upMinutes: Math.min(byEpoch.get(epoch) ?? 0, slots),
      possibleMinutes: possible,
    });
  }
  return {
    uptime24h: share(Number(totals.d1), overlapSlots(w1.startMs, now, since, now, epochSeconds)),
    uptime7d: share(Number(totals.d7), overlapSlots(w7.startMs, now, since, now, epochSeconds)),
    uptime30d: share(Number(totals.d30), overlapSlots(w30.startMs, now, since, now, epochSeconds)),
    daily,
    epochs,
  };
}
