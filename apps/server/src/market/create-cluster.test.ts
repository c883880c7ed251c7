import type { CreateClusterBody, JobStartMessage } from "@ignis/protocol";
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
import { createPriceBook } from "./price-book.js";

const body = (over: Partial<CreateClusterBody> = {}): CreateClusterBody => ({
  gpuModel: FIXTURE_MODEL,
  count: 2,
  hours: 1,
  job: { command: "node", args: ["-e", "console.log(process.env.IGNIS_RANK)"], env: { MODEL: "tiny" } },
  ...over,
});

describeEachDialect("renting a cluster", (database) => {
  let h: MarketHarness;
  let supplier: string;
  beforeAll(async () => {
    h = marketHarness(database().db);
    supplier = await createTestUser(h.ctx.db, ["supplier"]);
  });

  const snapshot = async (customer: string) => ({
    balance: await balanceOf(h.ctx.db, marketAccounts.customer(customer)),
    clusters: (
      await h.ctx.db.selectFrom("clusters").select("id").where("customer_id", "=", customer).execute()
    ).length,
    hired: (await h.ctx.db.selectFrom("devices").select("id").where("status", "=", "hired").execute()).length,
  });

  it("reserves every device, holds price × count × hours in escrow and sends each rank its start order", async () => {
    const devices = await insertDevices(h.ctx.db, { ownerId: supplier, count: 2, seenAt: h.clock.ms });
    const customer = await createCustomer(h.ctx.db, 10_000_000n);
    const cluster = await createCluster(h.ctx, customer, body());
    expect(cluster).toMatchObject({
      status: "pending",
      count: 2,
      hours: 1,
      held: "2400000",
      hold_price_per_hour: "1200000",
    });
    expect(await balanceOf(h.ctx.db, marketAccounts.customer(customer))).toBe(7_600_000n);
    expect(await balanceOf(h.ctx.db, marketAccounts.escrow(cluster.id))).toBe(2_400_000n);
    const statuses = await h.ctx.db
      .selectFrom("devices")
      .select("status")
      .where("id", "in", devices)
      .execute();
    expect(statuses.map((s) => s.status)).toEqual(["hired", "hired"]);
    const starts = h.sent
      .filter((s) => s.message.type === "job.start")
      .map((s) => s.message as JobStartMessage);
    expect(starts.map((m) => m.rank).sort()).toEqual([0, 1]);
    // Every rank is told rank 0's session address, whichever device that is.
    const head = await h.ctx.db
      .selectFrom("cluster_jobs as j")
      .innerJoin("devices as d", "d.id", "j.device_id")
      .select("d.session_address")
      .where("j.cluster_id", "=", cluster.id)
      .where("j.rank", "=", 0)
      .executeTakeFirstOrThrow();
    expect(head.session_address).toMatch(/^10\.0\.0\.\d$/);
    for (const start of starts) {
      expect(start.env).toMatchObject({
        MODEL: "tiny",
        IGNIS_CLUSTER_ID: cluster.id,
        IGNIS_WORLD_SIZE: "2",
        IGNIS_HEAD_ADDR: `${head.session_address}:${cluster.head_port}`,
        IGNIS_HEAD_HOST: head.session_address,
      });
    }
    expect(new Date(starts[0]!.deadline).getTime()).toBe(h.clock.ms + 60 * 1000);
    await expectBalancedLedger(h.ctx.db);
  });

  it("measures a device's silence from where this replica's last-seen writes have got to, not from the clock", async () => {
    // A model of its own, so that no other test's device can be hired instead.
    const gpuModel = "Lagging GPU";
    const prices = createPriceBook(
      [{ profile: "lagging-gpu", gpuModel, defaultPricePerGpuHour: 1_000_000n }],
      20_000n,
    );
    // Last seen 5 s ago, past the 3 s after which a device counts as gone...
    await insertDevices(h.ctx.db, {
      ownerId: supplier,
      count: 1,
      seenAt: h.clock.ms - 5000,
      model: gpuModel,
      profile: "lagging-gpu",
    });
    const customer = await createCustomer(h.ctx.db, 10_000_000n);
    const request = body({ gpuModel, count: 1 });
    // ...and with every heartbeat received so far written, it is gone: not hired.
    const current = { ...h.ctx, prices, storedThrough: () => h.clock.ms };
    await expect(createCluster(current, customer, request)).rejects.toMatchObject({ code: "no_capacity" });
    // With this replica's writes 4 s behind (a loaded database), its last heartbeats may be unwritten: hired.
    const behind = { ...h.ctx, prices, storedThrough: () => h.clock.ms - 4000 };
    expect(await createCluster(behind, customer, request)).toMatchObject({ status: "pending", count: 1 });
  });

  it("refuses each bad request with its own code and leaves no reservation or hold behind", async () => {
    await insertDevices(h.ctx.db, { ownerId: supplier, count: 3, seenAt: h.clock.ms });
    const customer = await createCustomer(h.ctx.db, 1_000_000n);
    const before = await snapshot(customer);
    const cases: [Partial<CreateClusterBody>, string][] = [
      [{ count: 0 }, "invalid_count"],
      [{ count: 9 }, "invalid_count"],
      [{ hours: 0 }, "invalid_hours"],
      [{ hours: 25 }, "invalid_hours"],
      [{ gpuModel: "Imaginary GPU" }, "unknown_gpu_model"],
      [{ count: 1, job: { command: "x", env: { "bad-name": "1" } } }, "invalid_env_name"],
      [{ count: 1, job: { command: "x", env: { IGNIS_RANK: "7" } } }, "reserved_env_name"],
      [{ count: 1, job: { command: "x", archive: "A".repeat(100_000) } }, "job_spec_too_large"],
      [{ count: 1, job: { command: "x", args: Array(300).fill("a") } }, "job_spec_too_large"],
      [{ count: 1, maxPricePerHour: "1.5" }, "invalid_price"],
      [{ count: 2 }, "insufficient_credit"],
      [{ count: 3, maxPricePerHour: "1000" }, "no_capacity"],
    ];
    for (const [over, code] of cases) {
      await expect(createCluster(h.ctx, customer, body(over)), code).rejects.toMatchObject({ code });
    }
    expect(await snapshot(customer)).toEqual(before);
    await expectBalancedLedger(h.ctx.db);
  });

  it("ranks the more reliable device first and, among equals, the cheaper one", async () => {
    const cheap = await insertDevices(h.ctx.db, {
      ownerId: supplier,
      count: 1,
      seenAt: h.clock.ms,
      model: "Other GPU",
      profile: "other-gpu",
      price: 100_000n,
    });
    const dear = await insertDevices(h.ctx.db, {
      ownerId: supplier,
      count: 1,
      seenAt: h.clock.ms,
      model: "Other GPU",
      profile: "other-gpu",
      price: 300_000n,
    });
    const flaky = await insertDevices(h.ctx.db, {
      ownerId: supplier,
      count: 1,
      seenAt: h.clock.ms,
      model: "Other GPU",
      profile: "other-gpu",
      price: 50_000n,
    });
    // The cheapest device lost two past rentals: its job success rate drops below the others'.
    const pastCluster = await createCluster(
      h.ctx,
      await createCustomer(h.ctx.db, 10_000_000n),
      body({ gpuModel: "Other GPU", count: 1 }),
    );
    await h.ctx.db
      .updateTable("cluster_jobs")
      .set({ active: false, state: "lost" })
      .where("cluster_id", "=", pastCluster.id)
      .execute();
    for (const id of [...cheap, ...dear, ...flaky])
      await h.ctx.db.updateTable("devices").set({ status: "online" }).where("id", "=", id).execute();
    for (let i = 0; i < 2; i++) {
      await h.ctx.db
        .insertInto("cluster_jobs")
        .values({
          id: `job_${"x".repeat(25)}${i}`,
          cluster_id: pastCluster.id,
          rank: 5 + i,
          device_id: flaky[0]!,
          supplier_id: supplier,
          price_per_hour: "1",
          state: "lost",
          active: false,
        })
        .execute();
    }
    const customer = await createCustomer(h.ctx.db, 10_000_000n);
    const cluster = await createCluster(h.ctx, customer, body({ gpuModel: "other gpu", count: 2 }));
    const jobs = await h.ctx.db
      .selectFrom("cluster_jobs")
      .select(["rank", "device_id"])
      .where("cluster_id", "=", cluster.id)
      .orderBy("rank")
      .execute();
    expect(jobs.map((j) => j.device_id)).toEqual([cheap[0], dear[0]]);
    expect(cluster.hold_price_per_hour).toBe("300000");
  });
});
