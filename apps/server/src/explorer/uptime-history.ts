import type { UptimeDay, UptimeEpoch } from "@ignis/protocol";
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
    firstDay: dayAt(now) - (CHART_DAYS - 1),
    firstRecent: current - (RECENT_EPOCHS - 1),
    current,
  };
}

/** One device's stored up-minutes, summed the ways the device page needs. */
export interface UptimeSums {
  d1: number;
  byDay: Map<number, number>;
  byEpoch: Map<number, number>;
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
  // 7 and 30 days are whole UTC days (today so far included), the same days the chart shows.
  const overDays = (days: UptimeDay[]) =>
    share(
      days.reduce((n, d) => n + d.upMinutes, 0),
      days.reduce((n, d) => n + d.possibleMinutes, 0),
    );
  return {
    uptime24h: share(sums.d1, overlapSlots(w.d1.startMs, now, since, now, epochSeconds)),
    uptime7d: overDays(daily.slice(-7)),
    uptime30d: overDays(daily),
    daily,
    epochs,
  };
}
