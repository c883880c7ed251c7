import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { epochAt } from "./epoch-window.js";

/** Network-wide totals of one epoch. */
export interface EpochTotal {
  activeDevices: number;
  upMinutes: number;
}

/** Per-epoch network totals, remembering settled epochs so each refresh reads only the last few. */
export interface EpochTotals {
  /** Totals of every epoch in [from, to], missing epochs absent. */
  between(from: number, to: number, now: number): Promise<Map<number, EpochTotal>>;
}

/** Uptime written this long after an epoch ends still counts (flush interval plus finalization). */
const SETTLE_MS = 120_000;
/**
 * Settled totals are re-read this often anyway: maintenance-window credit can still reach an epoch after it
 * settled. Hourly, because a full month at 600,000 devices is hundreds of millions of rows.
 */
const SETTLED_TTL_MS = 60 * 60_000;

async function readTotals(db: Db, from: number, toExclusive: number): Promise<Map<number, EpochTotal>> {
  const totals = new Map<number, EpochTotal>();
  if (toExclusive <= from) return totals;
  const rows = await db
    .selectFrom("uptime")
    .select([
      "epoch",
      sql<string>`count(*) filter (where up_minutes > 0)`.as("active"),
      sql<string>`sum(up_minutes)`.as("up"),
    ])
    .where("epoch", ">=", String(from))
    .where("epoch", "<", String(toExclusive))
    .groupBy("epoch")
    .execute();
  for (const r of rows)
    totals.set(Number(r.epoch), { activeDevices: Number(r.active), upMinutes: Number(r.up) });
  return totals;
}

/** Creates the per-epoch totals reader for one database and epoch length. */
export function createEpochTotals(db: Db, epochSeconds: number): EpochTotals {
  let settled = new Map<number, EpochTotal>();
  let coveredFrom = 0;
  let coveredTo = 0;
  let readAt = Number.NEGATIVE_INFINITY;

  return {
    async between(from, to, now) {
      const settledBefore = Math.min(to + 1, epochAt(now - SETTLE_MS, epochSeconds));
      if (now - readAt > SETTLED_TTL_MS || from < coveredFrom || coveredTo < from) {
        settled = await readTotals(db, from, settledBefore);
        coveredFrom = from;
        coveredTo = settledBefore;
        readAt = now;
      } else if (coveredTo < settledBefore) {
        for (const [e, t] of await readTotals(db, coveredTo, settledBefore)) settled.set(e, t);
        coveredTo = settledBefore;
      }
      for (const e of settled.keys()) if (e < from) settled.delete(e);
      coveredFrom = Math.max(coveredFrom, from);
      const live = await readTotals(db, Math.max(from, coveredTo), to + 1);
      const out = new Map<number, EpochTotal>();
      for (const [e, t] of settled) if (e >= from && e <= to) out.set(e, t);
      for (const [e, t] of live) out.set(e, t);
      return out;
    },
  };
}
