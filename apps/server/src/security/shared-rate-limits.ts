import { Redis } from "ioredis";
import { CompiledQuery } from "kysely";
import { RateLimiterPostgres, RateLimiterRedis } from "rate-limiter-flexible";
import type { Db } from "../db/database.js";
import { type LimiterFactory, memoryLimiters } from "./rate-limits.js";

/** Where budgets live: one process's memory, or a store every replica shares. */
export type RateLimitStoreKind = "memory" | "redis" | "postgres";

/** A limiter factory and how to release what it holds. */
export interface RateLimitStore {
  kind: RateLimitStoreKind;
  makeLimiter: LimiterFactory;
  close(): Promise<void>;
}

/**
 * Picks the store: Redis when `IGNIS_REDIS_URL` is set; PostgreSQL when several replicas share one database
 * (`DATABASE_URL` and `IGNIS_NATS_URL`); otherwise memory (the embedded single-process default).
 */
export function chooseRateLimitStore(config: {
  redisUrl: string | undefined;
  databaseUrl: string | undefined;
  natsUrl: string | undefined;
}): RateLimitStoreKind {
  if (config.redisUrl) return "redis";
  if (config.databaseUrl && config.natsUrl) return "postgres";
  return "memory";
}

/** Budgets shared through Redis: one Lua increment per request, atomic across replicas. */
export async function redisRateLimitStore(url: string, prefix = "ignis:rl"): Promise<RateLimitStore> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  // Reconnects are ioredis's job; a dropped connection must not crash the process.
  client.on("error", () => {});
  await client.connect();
  return {
    kind: "redis",
    makeLimiter: (name, points, duration) =>
      new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `${prefix}:${name}`,
        points,
        duration,
        rejectIfRedisNotReady: true,
      }),
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/**
 * Budgets shared through the `rate_limits` table (migration 0008): an upsert per request. The library's
 * statements carry bound values; the adapter runs them through Kysely so both PostgreSQL and PGlite work.
 */
export function postgresRateLimitStore(db: Db): RateLimitStore {
  const client = {
    // The library reads pg's `rowCount` (0 rows → no budget spent yet); Kysely reports numAffectedRows instead.
    query: async (q: { text: string; values?: unknown[] }) => {
      const result = await db.executeQuery(CompiledQuery.raw(q.text, q.values ?? []));
      return { rows: result.rows, rowCount: Number(result.numAffectedRows ?? result.rows.length) };
    },
  };
  let first = true;
  return {
    kind: "postgres",
    makeLimiter: (name, points, duration) => {
      // One sweeper of expired rows is enough for the whole table.
      const clearExpiredByTimeout = first;
      first = false;
      return new RateLimiterPostgres({
        storeClient: client,
        storeType: "client",
        tableName: "rate_limits",
        tableCreated: true,
        clearExpiredByTimeout,
        keyPrefix: name,
        points,
        duration,
      });
    },
    async close() {},
  };
}

/** Opens the store the configuration asks for. */
export async function openRateLimitStore(
  kind: RateLimitStoreKind,
  config: { redisUrl: string | undefined },
  db: Db,
): Promise<RateLimitStore> {
  if (kind === "redis") return redisRateLimitStore(config.redisUrl!);
  if (kind === "postgres") return postgresRateLimitStore(db);
  return { kind: "memory", makeLimiter: memoryLimiters, async close() {} };
}
