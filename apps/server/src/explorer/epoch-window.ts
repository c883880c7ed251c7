import { SLOTS_PER_EPOCH } from "../uptime/minute-slots.js";

const DAY_MS = 86_400_000;

/** The epoch containing an instant: epochs are consecutive `epochSeconds` intervals since the Unix epoch. */
export function epochAt(ms: number, epochSeconds: number): number {
  return Math.floor(ms / 1000 / epochSeconds);
}

/** When an epoch starts, in milliseconds since the Unix epoch. */
export function epochStartMs(epoch: number, epochSeconds: number): number {
  return epoch * epochSeconds * 1000;
}

/** Uptime slots in one epoch: always 60, each epochSeconds / 60 long (a minute for the default hour). */
export function slotsPerEpoch(_epochSeconds: number): number {
  return SLOTS_PER_EPOCH;
}

/** Uptime slots of [from, to) that overlap [since, now] (partial slots count), at least 0. */
export function overlapSlots(
  from: number,
  to: number,
  since: number,
  now: number,
  epochSeconds: number,
): number {
  const start = Math.max(from, since);
  const end = Math.min(to, now);
  const slotMs = (epochSeconds * 1000) / SLOTS_PER_EPOCH;
  return end > start ? Math.ceil((end - start) / slotMs) : 0;
}

/** The UTC day number of an instant (days since 1970-01-01). */
export function dayAt(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** The ISO date (YYYY-MM-DD) of a UTC day number. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Milliseconds at the start of a UTC day number. */
export function dayStartMs(day: number): number {
  return day * DAY_MS;
}

/** The first epoch that starts in the current UTC month (an epoch straddling the month start counts to it). */
export function firstEpochOfMonth(ms: number, epochSeconds: number): number {
  const d = new Date(ms);
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return Math.ceil(monthStart / 1000 / epochSeconds);
}

/** A share clamped to [0, 1], rounded to four decimals; 0 when nothing was possible. */
export function share(up: number, possible: number): number {
  if (possible <= 0) return 0;
  return Math.round(Math.min(1, Math.max(0, up / possible)) * 10_000) / 10_000;
}
