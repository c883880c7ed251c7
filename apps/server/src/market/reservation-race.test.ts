import { beforeAll, expect, it } from "vitest";
import { balanceOf } from "../ledger/balances.js";
import { describeEachDialect } from "../testing/dialects.js";
import { createCluster } from "./create-cluster.js";
import { marketAccounts } from "./escrow.js";
import {
  createCustomer,
  createTestUser,
  expectBalancedLedger,
  FIXTURE_MODEL,
  insertDevices,
  type MarketHarness,
  marketHarness,
} from "./market-fixtures.js";

// On PostgreSQL the two rentals run in separate connections at once; PGlite serializes them, and the outcome
// must be the same.
describeEachDialect("two customers racing for the same devices", (database, dialect) => {
  let h: MarketHarness;
  let supplier: string;
  let round = 0;
  beforeAll(async () => {
    h = marketHarness(database().db);
    supplier = await createTestUser(h.ctx.db, ["supplier"]);
    h.ctx.prices = { ...h.ctx.prices, canonicalModel: (m) => m };
  });

  const race = async (free: number, each: number) => {
    round++;
    const model = `${FIXTURE_MODEL} race ${round}`;
    const devices = await insertDevices(h.ctx.db, {
      ownerId: supplier,
      count: free,
      seenAt: h.clock.ms,
      model,
    });
    const customers = [
      await createCustomer(h.ctx.db, 100_000_000n),
      await createCustomer(h.ctx.db, 100_000_000n),
    ];
    const results = await Promise.allSettled(
      customers.map((c) =>
        createCluster(h.ctx, c, { gpuModel: model, count: each, hours: 1, job: { command: "x" } }),
      ),
    );
    return { devices, customers, results };
  };

  it(`lets exactly one of them have the last device [${dialect}]`, async () => {
    for (let i = 0; i < 5; i++) {
      const { devices, customers, results } = await race(1, 1);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost.map((r) => (r.reason as { code: string }).code)).toEqual(["no_capacity"]);
      const hired = await h.ctx.db
        .selectFrom("cluster_jobs")
        .select("device_id")
        .where("device_id", "in", devices)
        .execute();
      expect(hired).toHaveLength(1);
      // The loser's credit is untouched: nothing was held for it.
      const loser = customers[results.findIndex((r) => r.status === "rejected")]!;
      expect(await balanceOf(h.ctx.db, marketAccounts.customer(loser))).toBe(100_000_000n);
    }
    await expectBalancedLedger(h.ctx.db);
  });

  // Only PostgreSQL has a second connection to hold the row from; PGlite has one, and nothing is ever held.
  it.skipIf(dialect !== "postgres")(
    "rents a free device whose row a heartbeat write holds for a moment, instead of calling it taken",
    async () => {
      round++;
      const model = `${FIXTURE_MODEL} held ${round}`;
      const [device] = await insertDevices(h.ctx.db, {
        ownerId: supplier,
        count: 1,
        seenAt: h.clock.ms,
        model,
      });
      const customer = await createCustomer(h.ctx.db, 100_000_000n);
      // The heartbeat flush's update of the device's last-seen time, held open until the rental has looked.
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      const flush = h.ctx.db.transaction().execute(async (trx) => {
        await trx
          .updateTable("devices")
          .set({ last_seen_at: new Date(h.clock.ms) })
          .where("id", "=", device!)
          .execute();
        locked();
        await released;
      });
      await isLocked;
      const rental = createCluster(h.ctx, customer, {
        gpuModel: model,
        count: 1,
        hours: 1,
        job: { command: "x" },
      });
      // The rental has met the held row (it looks again every 50 ms) before the flush commits.
      let settled = false;
      void rental.then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(settled).toBe(false);
      release();
      await flush;
      await expect(rental).resolves.toMatchObject({ id: expect.any(String) });
      const row = await h.ctx.db
        .selectFrom("devices")
        .select("status")
        .where("id", "=", device!)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe("hired");
    },
  );

  it("reserves all of a cluster's devices or none: the loser leaves the remaining device free", async () => {
    const { devices, results } = await race(3, 2);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const statuses = await h.ctx.db
      .selectFrom("devices")
      .select("status")
      .where("id", "in", devices)
      .execute();
    expect(statuses.map((s) => s.status).sort()).toEqual(["hired", "hired", "online"]);
  });
});
