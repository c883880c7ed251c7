import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { inTransaction } from "../db/in-transaction.js";
import { newId } from "../db/new-id.js";
import { epochAt, epochEndMs, epochStartMs } from "./epoch-clock.js";
import { lastClosedEpoch, REWARDS_CONFIG_LOCK, type Season, seasonForEpoch } from "./seasons.js";

/** The default season's figures (docs/rewards.md explains them). */
export const DEFAULT_SEASON = Object.freeze({
  name: "genesis",
  /** 1,000 whole units an epoch (one hour by default), in micro-units. */
  poolPerEpoch: 1_000_000_000n,
  /** A device must be up for 45 of an epoch's 60 minute slots (75%) to earn in it. */
  minUpMinutes: 45,
  durationDays: 365,
});

/**
 * Creates the default season on first start when no season exists: it begins with the current epoch, so a new
 * network pays from its first hour, and takes its weights from the hardware profiles. Safe across replicas.
 */
export async function ensureDefaultSeason(
  db: Db,
  context: { epochSeconds: number; nowMs: number; weights: Record<string, number> },
): Promise<Season | undefined> {
  return inTransaction(db, async (trx) => {
    await REWARDS_CONFIG_LOCK.execute(trx);
    const any = await trx.selectFrom("reward_seasons").select("id").limit(1).executeTakeFirst();
    if (any) return undefined;
    const epoch = epochAt(context.nowMs, context.epochSeconds);
    const startsAt = new Date(epochStartMs(epoch, context.epochSeconds));
    const endsAt = new Date(startsAt.getTime() + DEFAULT_SEASON.durationDays * 86_400_000);
    await trx
      .insertInto("reward_seasons")
      .values({
        id: newId("ssn"),
        name: DEFAULT_SEASON.name,
        starts_at: startsAt,
        ends_at: endsAt,
        pool_per_epoch: DEFAULT_SEASON.poolPerEpoch.toString(),
        weights: JSON.stringify(context.weights),
        min_up_minutes: DEFAULT_SEASON.minUpMinutes,
        created_by: null,
      })
      .execute();
    return seasonForEpoch(trx, epoch, context.epochSeconds);
  });
}

/**
 * Ends a season early, at `atMs` (so another season can follow it). The new end may not lie in the past, nor
 * before the end of the last closed epoch, nor before the season starts: closed epochs keep their season.
 */
export async function endSeason(
  db: Db,
  seasonId: string,
  atMs: number,
  context: { epochSeconds: number; nowMs: number },
): Promise<Date> {
  return inTransaction(db, async (trx) => {
    await REWARDS_CONFIG_LOCK.execute(trx);
    const season = await trx
      .selectFrom("reward_seasons")
      .select(["starts_at", "ends_at"])
      .where("id", "=", seasonId)
      .executeTakeFirst();
    if (!season) throw new IgnisError("not_found", "no such season");
    const closed = await lastClosedEpoch(trx);
    const floor = Math.max(
      context.nowMs,
      new Date(season.starts_at).getTime() + 1,
      closed === undefined ? 0 : epochEndMs(closed, context.epochSeconds),
    );
    if (atMs < floor) {
      throw new IgnisError(
        "conflict",
        "a season can only end in the future, after its start and after closed epochs",
        {
          details: { earliest: new Date(floor).toISOString() },
        },
      );
    }
    if (atMs >= new Date(season.ends_at).getTime()) {
      throw new IgnisError("conflict", "the season already ends by then");
    }
    const endsAt = new Date(atMs);
    await trx.updateTable("reward_seasons").set({ ends_at: endsAt }).where("id", "=", seasonId).execute();
    return endsAt;
  });
}
