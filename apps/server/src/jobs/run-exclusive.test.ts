import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { expect, it } from "vitest";
import { describeEachDialect } from "../testing/dialects.js";
import { startIntervalJob } from "./interval-job.js";
import { runExclusive } from "./run-exclusive.js";

const quietLog = { warn: () => undefined, error: () => undefined };

describeEachDialect("runExclusive", (database) => {
  it("runs the function and returns its value when the lease is free", async () => {
    const run = await runExclusive(database().db, "job-a", async () => 42);
    expect(run).toEqual({ ran: true, value: 42 });
  });

  it("lets only one of two concurrent callers run, and frees the lease afterwards", async () => {
    const db = database().db;
    let inside = 0;
    let most = 0;
    const work = async () => {
      inside++;
      most = Math.max(most, inside);
      await sleep(200);
      inside--;
      return "done";
    };
    const [a, b] = await Promise.all([
      runExclusive(db, "job-b", work, { holder: "replica-1" }),
      runExclusive(db, "job-b", work, { holder: "replica-2" }),
    ]);
    expect([a.ran, b.ran].sort()).toEqual([false, true]);
    expect(most).toBe(1);
    const loser = a.ran ? b : a;
    expect(loser.ran === false && loser.holder).toMatch(/^replica-\d\//);
    expect((await runExclusive(db, "job-b", async () => "again")).ran).toBe(true);
  });

  it("takes over a lease whose holder died without releasing it, once it expires", async () => {
    const db = database().db;
    await sql`insert into job_leases (name, holder, acquired_at, expires_at)
      values ('job-c', 'crashed/1', now(), now() + interval '0.2 seconds')`.execute(db);
    expect((await runExclusive(db, "job-c", async () => 1)).ran).toBe(false);
    await sleep(300);
    expect(await runExclusive(db, "job-c", async () => 2)).toEqual({ ran: true, value: 2 });
  });

  it("renews the lease while a long run goes on, so nobody takes it over", async () => {
    const db = database().db;
    const long = runExclusive(db, "job-d", () => sleep(600).then(() => "long"), { ttlMs: 300 });
    await sleep(450);
    expect((await runExclusive(db, "job-d", async () => "intruder")).ran).toBe(false);
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
      await sleep(10);
      concurrent--;
      if (ticks === 2) throw new Error("one bad tick");
    },
  });
  await Promise.all([job.runNow(), job.runNow()]);
  await sleep(120);
  await job.stop();
  const stoppedAt = ticks;
  await sleep(60);
  expect(ticks).toBe(stoppedAt);
  expect(ticks).toBeGreaterThan(3);
  expect(errors).toHaveLength(1);
});
