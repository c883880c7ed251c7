import type { HeartbeatLoad } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { type SeenRow, writeLastSeen } from "../devices/last-seen.js";
import { epochOf, maskToString, popcount32, slotOf } from "./minute-slots.js";
import { mergeUptime, type UptimeRow } from "./uptime-store.js";

/** A session's handle on its device's up-minutes: marking costs no lookup and allocates nothing. */
export interface UptimeMark {
  /**
   * Records a heartbeat received at `nowMs` over an authenticated session. `credit: false` (an outdated worker
   * past its grace period) records that the device is alive — last-seen, load, online — without an up-minute.
   */
  mark(nowMs: number, load: HeartbeatLoad | null, credit?: boolean): void;
  /** The session ended; the entry is dropped once everything it holds is stored. */
  release(): void;
}

/** Up-minutes per device per epoch, in memory, written in batches. */
export interface UptimeTracker {
  track(deviceId: string): UptimeMark;
  /** Writes everything buffered; on failure keeps it for the next flush (nothing is lost). */
  flush(): Promise<void>;
  /** Starts the periodic flush. */
  start(): void;
  /** Stops the periodic flush and writes what is buffered (retrying a few times). */
  stop(): Promise<void>;
  /**
   * Every heartbeat this replica received before this time is stored: the start of the last flush that
   * succeeded. Last-seen times in the database are current up to here, so a rule that calls a device silent
   * measures from here when flushes fall behind (a loaded database or process), not from the clock.
   */
  storedThroughMs(): number;
  /** Devices tracked and rows waiting, for metrics and tests. */
  stats(): { devices: number; pendingRows: number; failedFlushes: number };
}

/**
 * The time from which a rule about last-seen times (`last_seen_at` older than a threshold means silent) should
 * measure: now, or, when this replica's flushes are more than one interval behind, the point its flushes have
 * reached plus that interval. A device is never called silent because the server itself was late writing it.
 */
export function lastSeenReference(nowMs: number, storedThroughMs: number, flushMs: number): number {
  return Math.min(nowMs, storedThroughMs + flushMs);
}

interface Entry {
  deviceId: string;
  refs: number;
  epoch: number;
  lo: number;
  hi: number;
  /** The mask last known to be stored for `epoch`. */
  storedLo: number;
  storedHi: number;
  seenMs: number;
  storedSeenMs: number;
  load: HeartbeatLoad | null;
}

/** Creates the tracker. `epochSeconds` fixes epochs and slots (see minute-slots.ts). */
export function createUptimeTracker(options: {
  db: Db;
  epochSeconds: number;
  flushSeconds: number;
  /** A device that heartbeated within this window counts as online again when its last-seen time is written. */
  onlineWindowSeconds: number;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}): UptimeTracker {
  const { db, epochSeconds, log } = options;
  const entries = new Map<string, Entry>();
  /** Masks of finished epochs (and of failed flushes) waiting to be written. */
  let pending: UptimeRow[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let failedFlushes = 0;
  let storedThrough = Date.now();

  const rowOf = (e: Entry): UptimeRow => ({
    deviceId: e.deviceId,
    epoch: e.epoch,
    mask: maskToString(e.lo, e.hi),
    upMinutes: popcount32(e.lo) + popcount32(e.hi),
  });

  const markEntry = (e: Entry, nowMs: number, load: HeartbeatLoad | null, credit: boolean) => {
    const epoch = epochOf(nowMs, epochSeconds);
    if (epoch !== e.epoch) {
      if (e.lo !== e.storedLo || e.hi !== e.storedHi) pending.push(rowOf(e));
      e.epoch = epoch;
      e.lo = e.hi = e.storedLo = e.storedHi = 0;
    }
    if (credit) {
      const slot = slotOf(nowMs, epochSeconds);
      if (slot < 32) e.lo = (e.lo | (1 << slot)) >>> 0;
      else e.hi = (e.hi | (1 << (slot - 32))) >>> 0;
    }
    if (nowMs > e.seenMs) e.seenMs = nowMs;
    if (load) e.load = load;
  };

  const flushOnce = async () => {
    const startedMs = Date.now();
    const carried = pending;
    pending = [];
    const rows = carried.slice();
    const snapshots: Array<{ e: Entry; epoch: number; lo: number; hi: number }> = [];
    const seen: SeenRow[] = [];
    for (const e of entries.values()) {
      if (e.lo !== e.storedLo || e.hi !== e.storedHi) {
        rows.push(rowOf(e));
        snapshots.push({ e, epoch: e.epoch, lo: e.lo, hi: e.hi });
      }
      if (e.seenMs > e.storedSeenMs)
        seen.push({ deviceId: e.deviceId, seenAt: new Date(e.seenMs), load: e.load });
    }
    try {
      if (rows.length > 0) await mergeUptime(db, rows);
      if (seen.length > 0)
        await writeLastSeen(db, seen, new Date(Date.now() - options.onlineWindowSeconds * 1000));
    } catch (error) {
      // Keep everything: live entries stay dirty, finished epochs go back to the queue; the OR-merge makes
      // writing them again harmless.
      failedFlushes++;
      pending = carried.concat(pending);
      log.warn({ err: error, rows: rows.length }, "uptime flush failed; keeping the minutes buffered");
      return;
    }
    storedThrough = Math.max(storedThrough, startedMs);
    for (const s of snapshots) {
      if (s.e.epoch === s.epoch) {
        s.e.storedLo = s.lo;
        s.e.storedHi = s.hi;
      }
    }
    for (const r of seen) {
      const e = entries.get(r.deviceId);
      if (e && r.seenAt.getTime() > e.storedSeenMs) e.storedSeenMs = r.seenAt.getTime();
    }
    for (const [id, e] of entries) {
      if (e.refs === 0 && e.lo === e.storedLo && e.hi === e.storedHi && e.seenMs <= e.storedSeenMs) {
        entries.delete(id);
      }
    }
  };

  const flush = async (): Promise<void> => {
    // One flush at a time; a caller arriving mid-flush waits for it and then writes what came since.
    while (inFlight) await inFlight;
    inFlight = flushOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  return {
    track(deviceId) {
      let e = entries.get(deviceId);
      if (!e) {
        e = {
          deviceId,
          refs: 0,
          epoch: -1,
          lo: 0,
          hi: 0,
          storedLo: 0,
          storedHi: 0,
          seenMs: 0,
          storedSeenMs: 0,
          load: null,
        };
        entries.set(deviceId, e);
      }
      const entry = e;
      entry.refs++;
      let released = false;
      return {
        mark: (nowMs, load, credit = true) => markEntry(entry, nowMs, load, credit),
        release() {
          if (released) return;
          released = true;
          entry.refs--;
        },
      };
    },
    flush,
    start() {
      if (timer) return;
      timer = setInterval(() => void flush(), Math.max(50, options.flushSeconds * 1000));
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        await flush();
        if (pending.length === 0) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      log.error({ rows: pending.length }, "uptime rows could not be stored before shutdown");
    },
    storedThroughMs: () => storedThrough,
    stats: () => ({ devices: entries.size, pendingRows: pending.length, failedFlushes }),
  };
}
