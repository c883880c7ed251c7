import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import type { Db } from "../db/database.js";

/** What runExclusive did: ran the function and got its value, or found the lease held by someone else. */
export type ExclusiveRun<T> = { ran: true; value: T } | { ran: false; holder: string };

/** Options of runExclusive. */
export interface ExclusiveOptions {
  /** Names the holder in the lease row (a replica id); a random suffix makes every run distinct. */
  holder?: string;
  /** How long the lease lasts without renewal; it is renewed every third of this while the function runs. */
  ttlMs?: number;
  /** Told when a renewal finds the lease taken over (the function ran past its lease, e.g. a long pause). */
  onLost?: () => void;
}

/**
 * Runs `fn` only if no other process (replica) holds the named lease, and holds it while `fn` runs. The lease is a
 * row in `job_leases` timed by the database clock, so replicas with skewed clocks agree, and a crashed holder's
 * lease simply expires. A lease bounds concurrency but cannot make side effects exactly-once on its own: `fn`
 * must check in its own transaction that its work is not done yet (epoch close does).
 */
export async function runExclusive<T>(
  db: Db,
  name: string,
  fn: () => Promise<T>,
  options: ExclusiveOptions = {},
): Promise<ExclusiveRun<T>> {
  const holder = `${options.holder ?? `pid-${process.pid}`}/${randomBytes(6).toString("hex")}`;
  const ttl = sql`make_interval(secs => ${(options.ttlMs ?? 60_000) / 1000})`;
  const acquired = await db
    .insertInto("job_leases")
    .values({ name, holder, acquired_at: sql`now()`, expires_at: sql`now() + ${ttl}` })
    .onConflict((oc) =>
      oc
        .column("name")
        .doUpdateSet({ holder, acquired_at: sql`now()`, expires_at: sql`now() + ${ttl}` })
        .where("job_leases.expires_at", "<=", sql<Date>`now()`),
    )
    .returning("holder")
    .executeTakeFirst();
  if (!acquired) {
    const current = await db
      .selectFrom("job_leases")
      .select("holder")
      .where("name", "=", name)
      .executeTakeFirst();
    return { ran: false, holder: current?.holder ?? "unknown" };
  }
  const renewal = setInterval(
    () => {
      renew(db, name, holder, ttl).then(
        (held) => {
          if (!held) options.onLost?.();
        },
        () => undefined,
      );
    },
    Math.max(50, (options.ttlMs ?? 60_000) / 3),
  );
  renewal.unref();
  try {
    return { ran: true, value: await fn() };
  } finally {
    clearInterval(renewal);
    await db
      .updateTable("job_leases")
      .set({ expires_at: sql`now()` })
      .where("name", "=", name)
      .where("holder", "=", holder)
      .execute()
      .catch(() => undefined);
  }
}

async function renew(db: Db, name: string, holder: string, ttl: ReturnType<typeof sql>): Promise<boolean> {
  const row = await db
    .updateTable("job_leases")
    .set({ expires_at: sql`now() + ${ttl}` })
    .where("name", "=", name)
    .where("holder", "=", holder)
    .returning("holder")
    .executeTakeFirst();
  return row !== undefined;
}
