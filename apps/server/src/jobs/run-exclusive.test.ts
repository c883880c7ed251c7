import { sql } from "kysely";
import { expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { describeEachDialect } from "../testing/dialects.js";
import { waitFor } from "../testing/wait-for.js";
import { startIntervalJob } from "./interval-job.js";
import { runExclusive } from "./run-exclusive.js";

const quietLog = { warn: () => undefined, error: () => undefined };

/** A promise the test settles: work that goes on until the test says it is done. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** The lease's expiry and the database's clock, read in one statement. */
async function leaseClock(db: Db, name: string): Promise<{ expiresAt: number; now: number }> {
  const row = await sql<{ expires_at: Date; now: Date }>`select expires_at, now() as now
    from job_leases where name = ${name}`.execute(db);
  const { expires_at, now } = row.rows[0]!;
  return { expiresAt: new Date(expires_at).getTime(), now: new Date(now).getTime() };
}

describeEachDialect("runExclusive", (database) => {
  it("runs the function and returns its value when the lease is free", async () => {
    const run = await runExclusive(database().db, "job-a", async () => 42);
    expect(run).toEqual({ ran: true, value: 42 });
  });

  it("lets only one of two concurrent callers run, and frees the lease afterwards", async () => {
    const db = database().db;
    let inside = 0;
    let most = 0;
    // The winner's work goes on until the loser has answered, so the two calls overlap however slow the machine.
    const busy = gate();
    const work = async () => {
      inside++;
      most = Math.max(most, inside);
      await busy.opened;
      inside--;
      return "done";
    };
    const runs = [
      runExclusive(db, "job-b", work, { holder: "replica-1" }),
      runExclusive(db, "job-b", work, { holder: "replica-2" }),
    ];
    const loser = await Promise.race(runs);
    busy.open();
    const [a, b] = await Promise.all(runs);
    expect([a!.ran, b!.ran].sort()).toEqual([false, true]);
    expect(most).toBe(1);
    expect(loser.ran === false && loser.holder).toMatch(/^replica-\d\//);
    expect((await runExclusive(db, "job-b", async () => "again")).ran).toBe(true);
  });

  it("takes over a lease whose holder died without releasing it, once it expires", async () => {
    const db = database().db;
    await sql`insert into job_leases (name, holder, acquired_at, expires_at)
      values ('job-c', 'crashed/1', now(), now() + interval '1 hour')`.execute(db);
    expect((await runExclusive(db, "job-c", async () => 1)).ran).toBe(false);
    // The crashed holder never renews: move its lease to where the database clock has passed it.
    await sql`update job_leases set expires_at = now() - interval '1 second' where name = 'job-c'`.execute(
      db,
    );
    expect(await runExclusive(db, "job-c", async () => 2)).toEqual({ ran: true, value: 2 });
  });

  it("renews the lease while a long run goes on, so nobody takes it over", async () => {
    const db = database().db;
    // A lease of 3 s, renewed every second: a loaded machine would have to stall the renewal for 3 s to lose it.
    const busy = gate();
    const long = runExclusive(db, "job-d", () => busy.opened.then(() => "long"), { ttlMs: 3_000 });
    const first = await waitFor("the lease row", () => leaseClock(db, "job-d").catch(() => undefined));
    // Wait, on the database's clock, until the lease as first taken would have expired.
    await waitFor(
      "the first lease's expiry to pass",
      async () => {
        const lease = await leaseClock(db, "job-d");
        return lease.now > first.expiresAt && lease.expiresAt > first.expiresAt;
      },
      { timeoutMs: 15_000 },
    );
    expect((await runExclusive(db, "job-d", async () => "intruder")).ran).toBe(false);
    busy.open();
    expect(await long).toEqual({ ran: true, value: "long" });
  });
});

it("an interval job runs its ticks one at a time, survives a failing tick and stops cleanly", async () => {
  let ticks = 0;
  let concurrent = 0;
  const errors: unknown[] = [];
  const job = startIntervalJob({
    name: "test",
    intervalMs: 20,
    firstDelayMs: 0,
    log: { ...quietLog, error: (obj) => errors.push(obj) },
    tick: async () => {
      concurrent++;
      expect(concurrent).toBe(1);
      ticks++;
      // Yield to the event loop inside the tick, so an overlapping tick would be seen.
      await new Promise((resolve) => setImmediate(resolve));
      concurrent--;
      if (ticks === 2) throw new Error("one bad tick");
    },
  });
  await Promise.all([job.runNow(), job.runNow()]);
  // The timer keeps ticking after the failing second tick.
  await waitFor("four ticks", () => ticks >= 4);
  await job.stop();
  const stoppedAt = ticks;
  // A stopped job runs no tick: a timer that fires late goes through the same gate as runNow.
  await job.runNow();
  expect(ticks).toBe(stoppedAt);
  expect(errors).toHaveLength(1);
});
