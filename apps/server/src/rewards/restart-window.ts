import type { Db } from "../db/database.js";
import { inTransaction } from "../db/in-transaction.js";
import { newId } from "../db/new-id.js";
import { epochEndMs } from "./epoch-clock.js";
import { DEFAULT_LEAD_MINUTES } from "./maintenance-windows.js";
import { lastClosedEpoch, REWARDS_CONFIG_LOCK } from "./seasons.js";

/**
 * A restart costs devices no uptime: the minutes from just before this server started until its fleet was
 * admitted again (sessions are admitted in turns, 503 `starting` / `server_busy` with a Retry-After, so the last
 * device of a large fleet waits minutes through no fault of its own) are recorded as a maintenance window that
 * declares itself. Epoch close credits it like any window (grace-credit.ts): a device seen in the
 * `DEFAULT_LEAD_MINUTES` before it and back within `RESTART_GRACE_MINUTES` after it keeps those minutes; one that
 * does not come back gets nothing. Only a restart opens one (no request can), and it lasts at most
 * `RESTART_WINDOW_MAX_MS`, so the most a device can gain from it is a restart's length.
 */
export const RESTART_REASON = "automatic: server restart (sessions admitted in turns)";
/** Before this process started: the previous process's drain and the restart itself. */
export const RESTART_LEAD_MS = 60_000;
/** The longest restart window: a storm still refusing openers after this long is not a restart any more. */
export const RESTART_WINDOW_MAX_MS = 15 * 60_000;
/** Minutes after the window in which a device must be back to be credited. */
export const RESTART_GRACE_MINUTES = 2;

/**
 * Whether a server starting at `startedAtMs` restarts a live network: a device was seen in the
 * `DEFAULT_LEAD_MINUTES` before it (a fresh network, or one idle for long, has no minutes to keep). Asked at
 * start, before any device reconnects and moves its last-seen time past the start.
 */
export async function restartsLiveNetwork(db: Db, startedAtMs: number): Promise<boolean> {
  const seen = await db
    .selectFrom("devices")
    .select("id")
    .where("last_seen_at", ">=", new Date(startedAtMs - RESTART_LEAD_MS - DEFAULT_LEAD_MINUTES * 60_000))
    .limit(1)
    .executeTakeFirst();
  return seen !== undefined;
}

/**
 * Records the restart window [startedAt − RESTART_LEAD_MS, settledAt] of a live network's restart
 * (`restartsLiveNetwork`). The part in an epoch that is already closed is left out, as its rewards are fixed.
 * Returns the window's id, or undefined when nothing was left to record.
 */
export async function recordRestartWindow(
  db: Db,
  times: { startedAtMs: number; settledAtMs: number; epochSeconds: number },
): Promise<string | undefined> {
  const startsAt = times.startedAtMs - RESTART_LEAD_MS;
  const endsAt = Math.min(times.settledAtMs, times.startedAtMs + RESTART_WINDOW_MAX_MS);
  return inTransaction(db, async (trx) => {
    await REWARDS_CONFIG_LOCK.execute(trx);
    const closed = await lastClosedEpoch(trx);
    const from = Math.max(startsAt, closed === undefined ? startsAt : epochEndMs(closed, times.epochSeconds));
    if (endsAt <= from) return undefined;
    const row = await trx
      .insertInto("maintenance_windows")
      .values({
        id: newId("win"),
        starts_at: new Date(from),
        ends_at: new Date(endsAt),
        grace_minutes: RESTART_GRACE_MINUTES,
        lead_minutes: DEFAULT_LEAD_MINUTES,
        reason: RESTART_REASON,
        created_by: null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return row.id;
  });
}
