import { type CreateMaintenanceWindowBody, IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { inTransaction } from "../db/in-transaction.js";
import { newId } from "../db/new-id.js";
import { epochEndMs } from "./epoch-clock.js";
import { lastClosedEpoch, REWARDS_CONFIG_LOCK } from "./seasons.js";

/** Minutes before a window's start in which a device must have been seen, unless the window says otherwise. */
export const DEFAULT_LEAD_MINUTES = 10;

/** An announced outage: devices seen just before it that return within the grace keep its minutes. */
export interface MaintenanceWindow {
  id: string;
  startsAt: Date;
  endsAt: Date;
  graceMinutes: number;
  leadMinutes: number;
  reason: string;
  createdAt: Date;
}

const selectWindows = (db: Db) =>
  db
    .selectFrom("maintenance_windows")
    .select(["id", "starts_at", "ends_at", "grace_minutes", "lead_minutes", "reason", "created_at"]);

function toWindow(row: Awaited<ReturnType<ReturnType<typeof selectWindows>["executeTakeFirstOrThrow"]>>) {
  return {
    id: row.id,
    startsAt: new Date(row.starts_at),
    endsAt: new Date(row.ends_at),
    graceMinutes: row.grace_minutes,
    leadMinutes: row.lead_minutes,
    reason: row.reason,
    createdAt: new Date(row.created_at),
  } satisfies MaintenanceWindow;
}

/**
 * Declares a maintenance window. Refused when it ends before it starts, or when it touches an epoch that is
 * already closed: credit can only be given before an epoch's rewards are fixed.
 */
export async function declareMaintenanceWindow(
  db: Db,
  input: CreateMaintenanceWindowBody,
  context: { epochSeconds: number; createdBy: string | null },
): Promise<MaintenanceWindow> {
  const startsAt = new Date(input.start);
  const endsAt = new Date(input.end);
  if (!(endsAt.getTime() > startsAt.getTime())) {
    throw new IgnisError("validation_failed", "the window must end after it starts", {
      details: { errors: [{ path: "body.end", message: "must be after start" }] },
    });
  }
  return inTransaction(db, async (trx) => {
    await REWARDS_CONFIG_LOCK.execute(trx);
    const closed = await lastClosedEpoch(trx);
    if (closed !== undefined && startsAt.getTime() < epochEndMs(closed, context.epochSeconds)) {
      throw new IgnisError("conflict", `the window touches epoch ${closed} or earlier, which is closed`);
    }
    const row = await trx
      .insertInto("maintenance_windows")
      .values({
        id: newId("win"),
        starts_at: startsAt,
        ends_at: endsAt,
        grace_minutes: input.graceMinutes,
        lead_minutes: input.leadMinutes ?? DEFAULT_LEAD_MINUTES,
        reason: input.reason,
        created_by: context.createdBy,
      })
      .returning(["id", "starts_at", "ends_at", "grace_minutes", "lead_minutes", "reason", "created_at"])
      .executeTakeFirstOrThrow();
    return toWindow(row);
  });
}

/** Declared windows, newest start first. */
export async function listMaintenanceWindows(db: Db, limit = 100): Promise<MaintenanceWindow[]> {
  return (await selectWindows(db).orderBy("starts_at", "desc").limit(limit).execute()).map(toWindow);
}

/** Windows that overlap the time range [fromMs, toMs). */
export async function windowsOverlapping(db: Db, fromMs: number, toMs: number): Promise<MaintenanceWindow[]> {
  const rows = await selectWindows(db)
    .where("starts_at", "<", new Date(toMs))
    .where("ends_at", ">", new Date(fromMs))
    .orderBy("starts_at")
    .execute();
  return rows.map(toWindow);
}

/** When an epoch touched by this window may close: after the window's end plus its grace. */
export function windowSettledAtMs(window: MaintenanceWindow): number {
  return window.endsAt.getTime() + window.graceMinutes * 60_000;
}
