import { type CreateSeasonBody, IgnisError } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { inTransaction } from "../db/in-transaction.js";
import { newId } from "../db/new-id.js";
import { epochEndMs, epochStartMs } from "./epoch-clock.js";

/** A reward season: the pool, weights and qualifying bar of every epoch whose start lies in [startsAt, endsAt). */
export interface Season {
  id: string;
  name: string;
  startsAt: Date;
  endsAt: Date;
  poolPerEpoch: bigint;
  weights: Record<string, number>;
  minUpMinutes: number;
  createdAt: Date;
}

type SeasonRow = {
  id: string;
  name: string;
  starts_at: Date;
  ends_at: Date;
  pool_per_epoch: string | number | bigint;
  weights: Record<string, number>;
  min_up_minutes: number;
  created_at: Date;
};

/** Season and window writes, and epoch closes, serialise on this lock so no close sees half a configuration. */
export const REWARDS_CONFIG_LOCK = sql`select pg_advisory_xact_lock(hashtextextended('ignis:rewards-config', 0))`;

function toSeason(row: SeasonRow): Season {
  return {
    id: row.id,
    name: row.name,
    startsAt: new Date(row.starts_at),
    endsAt: new Date(row.ends_at),
    poolPerEpoch: BigInt(row.pool_per_epoch),
    weights: row.weights,
    minUpMinutes: row.min_up_minutes,
    createdAt: new Date(row.created_at),
  };
}

const selectSeasons = (db: Db) =>
  db
    .selectFrom("reward_seasons")
    .select([
      "id",
      "name",
      "starts_at",
      "ends_at",
      "pool_per_epoch",
      "weights",
      "min_up_minutes",
      "created_at",
    ]);

/** Every season, oldest first. */
export async function listSeasons(db: Db): Promise<Season[]> {
  return (await selectSeasons(db).orderBy("starts_at").execute()).map(toSeason);
}

/** The season whose range holds the epoch's start, if any. */
export async function seasonForEpoch(
  db: Db,
  epoch: number,
  epochSeconds: number,
): Promise<Season | undefined> {
  const start = new Date(epochStartMs(epoch, epochSeconds));
  const row = await selectSeasons(db)
    .where("starts_at", "<=", start)
    .where("ends_at", ">", start)
    .executeTakeFirst();
  return row ? toSeason(row) : undefined;
}

/** The earliest season starting at or after a moment, if any (to skip gaps between seasons). */
export async function nextSeasonFrom(db: Db, at: Date): Promise<Season | undefined> {
  const row = await selectSeasons(db).where("starts_at", ">=", at).orderBy("starts_at").executeTakeFirst();
  return row ? toSeason(row) : undefined;
}

/** The latest closed epoch, or undefined before the first close. */
export async function lastClosedEpoch(db: Db): Promise<number | undefined> {
  const row = await db
    .selectFrom("reward_epochs")
    .select(sql<string>`max(epoch)::text`.as("epoch"))
    .executeTakeFirst();
  return row?.epoch == null ? undefined : Number(row.epoch);
}

/**
 * Checks a season for refusal: ranges the wrong way round, a negative pool, a weight missing for a known
 * hardware profile, or weights that are not non-negative integers. Throws `validation_failed` listing them all.
 */
export function validateSeason(input: CreateSeasonBody, knownProfiles: readonly string[]): void {
  const errors: { path: string; message: string }[] = [];
  if (!(Date.parse(input.endsAt) > Date.parse(input.startsAt))) {
    errors.push({ path: "body.endsAt", message: "must be after startsAt" });
  }
  if (!/^\d+$/.test(input.poolPerEpoch)) errors.push({ path: "body.poolPerEpoch", message: "must be ≥ 0" });
  for (const profile of knownProfiles) {
    if (input.weights[profile] === undefined) {
      errors.push({ path: `body.weights.${profile}`, message: `missing: a weight for profile ${profile}` });
    }
  }
  for (const [profile, weight] of Object.entries(input.weights)) {
    if (!Number.isSafeInteger(weight) || weight < 0) {
      errors.push({ path: `body.weights.${profile}`, message: "must be a non-negative integer" });
    }
  }
  if (!Number.isInteger(input.minUpMinutes) || input.minUpMinutes < 0 || input.minUpMinutes > 60) {
    errors.push({ path: "body.minUpMinutes", message: "must be an integer from 0 to 60" });
  }
  if (errors.length > 0) {
    throw new IgnisError("validation_failed", "the season is not valid", { details: { errors } });
  }
}

/**
 * Creates a season after validateSeason, refusing one that overlaps another season or starts in an epoch that
 * is already closed (its epochs could then never be paid as configured).
 */
export async function createSeason(
  db: Db,
  input: CreateSeasonBody,
  context: { knownProfiles: readonly string[]; epochSeconds: number; createdBy: string | null },
): Promise<Season> {
  validateSeason(input, context.knownProfiles);
  return inTransaction(db, async (trx) => {
    await REWARDS_CONFIG_LOCK.execute(trx);
    const startsAt = new Date(input.startsAt);
    const endsAt = new Date(input.endsAt);
    const overlapping = await trx
      .selectFrom("reward_seasons")
      .select(["id", "name", "starts_at", "ends_at"])
      .where("starts_at", "<", endsAt)
      .where("ends_at", ">", startsAt)
      .executeTakeFirst();
    if (overlapping) {
      throw new IgnisError("conflict", `the season overlaps season ${overlapping.name}; end that one first`, {
        details: {
          overlaps: {
            id: overlapping.id,
            name: overlapping.name,
            startsAt: new Date(overlapping.starts_at).toISOString(),
            endsAt: new Date(overlapping.ends_at).toISOString(),
          },
        },
      });
    }
    const closed = await lastClosedEpoch(trx);
    if (closed !== undefined && startsAt.getTime() < epochEndMs(closed, context.epochSeconds)) {
      throw new IgnisError(
        "conflict",
        `the season would start in or before epoch ${closed}, which is closed`,
      );
    }
    const row = await trx
      .insertInto("reward_seasons")
      .values({
        id: newId("ssn"),
        name: input.name,
        starts_at: startsAt,
        ends_at: endsAt,
        pool_per_epoch: input.poolPerEpoch,
        weights: JSON.stringify(input.weights),
        min_up_minutes: input.minUpMinutes,
        created_by: context.createdBy,
      })
      .onConflict((oc) => oc.column("name").doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new IgnisError("conflict", `a season named ${input.name} exists`);
    return toSeason(row);
  });
}
