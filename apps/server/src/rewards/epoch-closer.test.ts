import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type OpenDatabase, openDatabase } from "../db/database.js";
import { describeEachDialect } from "../testing/dialects.js";
import { insertSupplier } from "../testing/user-rows.js";
import { epochEndMs, epochStartMs } from "./epoch-clock.js";
import { type EpochCloserOptions, runEpochCloseTick } from "./epoch-closer.js";
import { insertDevice, recordUptime, slots } from "./reward-fixtures.js";
import { createSeason } from "./seasons.js";

const EPOCH_SECONDS = 60;
const FIRST = 29_000_000;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describeEachDialect("scheduled epoch close across replicas", (database, dialect) => {
  let second: OpenDatabase | undefined;
  const replica = (db: OpenDatabase, id: string, nowMs: number): EpochCloserOptions => ({
    db: db.db,
    log: quiet,
    replicaId: id,
    now: () => nowMs,
    epochSeconds: EPOCH_SECONDS,
    finalizationSeconds: 5,
  });

  beforeAll(async () => {
    const db = database().db;
    await createSeason(
      db,
      {
        name: "replicas",
        startsAt: new Date(epochStartMs(FIRST, EPOCH_SECONDS)).toISOString(),
        endsAt: new Date(epochStartMs(FIRST + 5, EPOCH_SECONDS)).toISOString(),
        poolPerEpoch: "999",
        weights: { "sim-a100": 1 },
        minUpMinutes: 1,
      },
      { knownProfiles: ["sim-a100"], epochSeconds: EPOCH_SECONDS, createdBy: null },
    );
    const owner = await insertSupplier(db);
    for (let d = 0; d < 4; d++) {
      const device = await insertDevice(db, owner);
      for (let e = FIRST; e < FIRST + 5; e++) await recordUptime(db, device, e, slots(0, 10 + d));
    }
    // On PostgreSQL the second replica has its own connection pool, as a second process would.
    const url = (database() as OpenDatabase & { url?: string }).url;
    second = dialect === "postgres" && url ? await openDatabase({ databaseUrl: url }) : undefined;
  });
  afterAll(async () => {
    await second?.close();
  });

  it("closes each due epoch exactly once when two replicas tick at the same moment", async () => {
    const now = epochEndMs(FIRST + 3, EPOCH_SECONDS) + 5_000;
    const [a, b] = await Promise.all([
      runEpochCloseTick(replica(database(), "replica-a", now)),
      runEpochCloseTick(replica(second ?? database(), "replica-b", now)),
    ]);
    expect([...a, ...b].map((c) => c.epoch).sort()).toEqual([FIRST, FIRST + 1, FIRST + 2, FIRST + 3]);
    const db = database().db;
    const closed = await db
      .selectFrom("reward_epochs")
      .select(sql<number>`count(*)::int`.as("n"))
      .executeTakeFirstOrThrow();
    const paid = await db
      .selectFrom("ledger_transactions")
      .select(sql<number>`count(*)::int`.as("n"))
      .where("kind", "=", "reward.epoch")
      .executeTakeFirstOrThrow();
    expect([closed.n, paid.n]).toEqual([4, 4]);
  });

  it("leaves an epoch open until its finalization delay has passed, then closes it on a later tick", async () => {
    const end = epochEndMs(FIRST + 4, EPOCH_SECONDS);
    expect(await runEpochCloseTick(replica(database(), "replica-a", end + 4_999))).toEqual([]);
    const later = await runEpochCloseTick(replica(second ?? database(), "replica-b", end + 5_000));
    expect(later.map((c) => [c.epoch, c.total])).toEqual([[FIRST + 4, 999n]]);
    expect(await runEpochCloseTick(replica(database(), "replica-a", end + 60_000))).toEqual([]);
  });
});
