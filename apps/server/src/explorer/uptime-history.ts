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

/** The windows the explorer reports, each starting at the beginning of the epoch containing `now - length`. */
export function uptimeWindows(now: number, epochSeconds: number) {
  const at = (ms: number) => {
    const epoch = epochAt(now - ms, epochSeconds);
    return { epoch, startMs: epochStartMs(epoch, epochSeconds) };
  };
  const current = epochAt(now, epochSeconds);
  return {
    d1: at(24 * HOUR_MS),
    d7: at(7 * 24 * HOUR_MS),
    d30: at(30 * 24 * HOUR_MS),
    firstDay: dayAt(now) - (CHART_DAYS - 1),
    firstRecent: current - (RECENT_EPOCHS - 1),
    current,
  };
}

/** One device's stored up-minutes, summed the ways the device page needs. */
export interface UptimeSums {
  d1: number;
  d7: number;
  d30: number;
  byDay: Map<number, number>;
  byEpoch: Map<number, number>;
}

/** Reads a device's window totals, per-day sums and recent epochs in one round trip (one index range). */
export async function readUptimeSums(
  db: Db,
  deviceId: string,
  now: number,
  epochSeconds: number,
): Promise<UptimeSums> {
  if (!Number.isInteger(epochSeconds) || epochSeconds <= 0)
    throw new Error("epochSeconds must be an integer");
  const w = uptimeWindows(now, epochSeconds);
  const firstDayEpoch = epochAt(dayStartMs(w.firstDay), epochSeconds);
  // The epoch length is a validated integer from config, inlined so SELECT and GROUP BY are one expression.
  const { rows } = await sql<{ kind: string; k: string | number; up: string | number }>`
    select 'w1' as kind, 0::bigint as k, coalesce(sum(up_minutes), 0) as up
      from uptime where device_id = ${deviceId} and epoch >= ${w.d1.epoch}
    union all
    select 'w7', 0, coalesce(sum(up_minutes), 0) from uptime where device_id = ${deviceId} and epoch >= ${w.d7.epoch}
    union all
    select 'w30', 0, coalesce(sum(up_minutes), 0) from uptime where device_id = ${deviceId} and epoch >= ${w.d30.epoch}
    union all
    (select 'day', (epoch * ${sql.lit(epochSeconds)}) / 86400, sum(up_minutes) from uptime
      where device_id = ${deviceId} and epoch >= ${firstDayEpoch} group by 2)
    union all
    select 'epoch', epoch, up_minutes from uptime where device_id = ${deviceId} and epoch >= ${w.firstRecent}
  `.execute(db);
  const sums: UptimeSums = { d1: 0, d7: 0, d30: 0, byDay: new Map(), byEpoch: new Map() };
  for (const r of rows) {
    const up = Number(r.up);
    if (r.kind === "w1") sums.d1 = up;
    else if (r.kind === "w7") sums.d7 = up;
    else if (r.kind === "w30") sums.d30 = up;
    else if (r.kind === "day") sums.byDay.set(Number(r.k), up);
    else sums.byEpoch.set(Number(r.k), up);
  }
  return sums;
}

/** Everything the device page shows about uptime. */
export interface UptimeHistory {
  uptime24h: number;
  uptime7d: number;
  uptime30d: number;
  daily: UptimeDay[];
  epochs: UptimeEpoch[];
}

/** Turns the sums into shares and chart series; a device's age bounds what uptime was possible. */
export function uptimeHistory(
  sums: UptimeSums,
  createdAt: Date,
  now: number,
  epochSeconds: number,
): UptimeHistory {
  const since = new Date(createdAt).getTime();
  const w = uptimeWindows(now, epochSeconds);
  const daily: UptimeDay[] = [];
  for (let day = w.firstDay; day <= dayAt(now); day++) {
    const possible = overlapSlots(dayStartMs(day), dayStartMs(day + 1), since, now, epochSeconds);
    // Epochs straddling midnight are counted whole on their first day, so cap at what that day allowed.
    daily.push({
      day: isoDay(day),
      upMinutes: Math.min(sums.byDay.get(day) ?? 0, possible),
      possibleMinutes: possible,
    });
  }
  const slots = slotsPerEpoch(epochSeconds);
  const epochs: UptimeEpoch[] = [];
  for (let epoch = w.firstRecent; epoch <= w.current; epoch++) {
    const start = epochStartMs(epoch, epochSeconds);
    const end = epochStartMs(epoch + 1, epochSeconds);
    const possible = Math.min(slots, overlapSlots(start, end, since, now, epochSeconds));
    epochs.push({
      epoch,
      startsAt: new Date(start).toISOString(),
      upMinutes: Math.min(sums.byEpoch.get(epoch) ?? 0, possible),
      possibleMinutes: possible,
    });
  }
  const windowShare = (up: number, startMs: number) =>
    share(up, overlapSlots(startMs, now, since, now, epochSeconds));
  return {
    uptime24h: windowShare(sums.d1, w.d1.startMs),
    uptime7d: windowShare(sums.d7, w.d7.startMs),
    uptime30d: windowShare(sums.d30, w.d30.startMs),
    daily,
    epochs,
  };
}
