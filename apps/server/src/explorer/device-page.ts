import type { VerificationEvent } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { memoryProvenAt } from "../proof/memory-proof.js";
import { dayStartMs, epochAt } from "./epoch-window.js";
import { HIDDEN_STATUSES, PUBLIC_DEVICE_COLUMNS, type PublicDeviceRow, publicTier } from "./public-device.js";
import { publishedHour } from "./published-time.js";
import { type UptimeSums, uptimeWindows } from "./uptime-history.js";

/** Proof-of-GPU checks shown on a device page. */
const HISTORY_LIMIT = 50;

/** Everything a device page is built from. */
export interface DevicePageData {
  row: PublicDeviceRow;
  sums: UptimeSums;
  history: VerificationEvent[];
}

type Tuple = (string | number | null)[];
type Pairs = [string | number, string | number][] | string | null;
type Tuples = Tuple[] | string | null;

/** json_agg arrives parsed from pg and PGlite alike, but a driver may hand it over as text. */
function pairs(value: Pairs): [string | number, string | number][] {
  if (value === null) return [];
  return typeof value === "string" ? (JSON.parse(value) as [string | number, string | number][]) : value;
}

/** As pairs, for rows of any width. */
function tuples(value: Tuples): Tuple[] {
  if (value === null) return [];
  return typeof value === "string" ? (JSON.parse(value) as Tuple[]) : value;
}

/**
 * Reads a shown device and its uptime sums and decided proof-of-GPU checks in one query: the device page is
 * polled by every viewer, so it costs one round trip and one plan. The checks carry the outcome, the hour and the
 * stable reason code only (never seeds, timings, details or replicas), from completed hours (published-time.ts).
 */
export async function readDevicePage(
  db: Db,
  id: string,
  now: number,
  epochSeconds: number,
): Promise<DevicePageData | undefined> {
  if (!Number.isInteger(epochSeconds) || epochSeconds <= 0)
    throw new Error("epochSeconds must be an integer");
  const w = uptimeWindows(now, epochSeconds);
  const firstDayEpoch = epochAt(dayStartMs(w.firstDay), epochSeconds);
  const row = await db
    .selectFrom("devices")
    .select(PUBLIC_DEVICE_COLUMNS)
    .select(publicTier(now).as("link_tier"))
    .select(memoryProvenAt("devices.id").as("memory_proven_at"))
    .select([
      sql<string | number>`(select coalesce(sum(u.up_minutes), 0) from uptime u
        where u.device_id = devices.id and u.epoch >= ${w.d1.epoch})`.as("w1"),
      // The epoch length is a validated integer from config, inlined so SELECT and GROUP BY are one expression.
      sql<Pairs>`(select json_agg(json_build_array(x.day, x.up)) from (
        select (u.epoch * ${sql.lit(epochSeconds)}) / 86400 as day, sum(u.up_minutes) as up from uptime u
        where u.device_id = devices.id and u.epoch >= ${firstDayEpoch} group by 1) x)`.as("days"),
      sql<Pairs>`(select json_agg(json_build_array(u.epoch, u.up_minutes)) from uptime u
        where u.device_id = devices.id and u.epoch >= ${w.firstRecent})`.as("recent"),
      sql<Tuples>`(select json_agg(json_build_array(c.decided_at, c.outcome, c.reason) order by c.issued_at desc) from (
        select p.decided_at, p.outcome, p.reason, p.issued_at from proof_challenges p
        where p.device_id = devices.id and p.outcome in ('pass', 'fail', 'timeout') and p.decided_at is not null
        order by p.issued_at desc limit ${HISTORY_LIMIT}) c)`.as("history"),
    ])
    .where("id", "=", id)
    .where("status", "not in", HIDDEN_STATUSES)
    .executeTakeFirst();
  if (!row) return undefined;
  const { w1, days, recent, history, ...device } = row;
  return {
    row: device,
    sums: {
      d1: Number(w1),
      byDay: new Map(pairs(days).map(([day, up]) => [Number(day), Number(up)])),
      byEpoch: new Map(pairs(recent).map(([epoch, up]) => [Number(epoch), Number(up)])),
    },
    history: tuples(history).flatMap(([at, outcome, reason]) => {
      const hour = at === null ? null : publishedHour(at, now);
      if (!hour) return [];
      const shown = outcome === "pass" || outcome === "timeout" ? outcome : "fail";
      const code =
        shown === "pass"
          ? null
          : typeof reason === "string"
            ? reason
            : shown === "timeout"
              ? "no_answer"
              : "failed";
      return [
        { at: hour, result: shown === "pass" ? ("pass" as const) : ("fail" as const), outcome: shown, code },
      ];
    }),
  };
}
