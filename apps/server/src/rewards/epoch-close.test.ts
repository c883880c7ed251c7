import { REWARD_LEAF_ENCODING } from "@ignis/protocol";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { sql } from "kysely";
import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { accountOf, systemAccount } from "../ledger/accounts.js";
import { balanceOf, ledgerImbalance } from "../ledger/balances.js";
import { describeEachDialect } from "../testing/dialects.js";
import { insertSupplier } from "../testing/user-rows.js";
import { epochStartMs } from "./epoch-clock.js";
import { type CloseStage, closeEpoch } from "./epoch-close.js";
import { recomputeEpoch } from "./epoch-recompute.js";
import { insertDevice, recordUptime, slots } from "./reward-fixtures.js";
import { createSeason } from "./seasons.js";

const EPOCH_SECONDS = 60;
const FIRST = 1_000;
const PROFILES = ["sim-a100", "sim-h100", "sim-cpu"];

async function rewardRows(db: Db, epoch: number) {
  const rows = await db
    .selectFrom("rewards")
    .select(["device_id", sql<string>`amount::text`.as("amount"), "tree_index", "weight", "up_minutes"])
    .where("epoch", "=", String(epoch))
    .orderBy("device_id")
    .execute();
  return rows;
}

describeEachDialect("epoch close", (database) => {
  let db: Db;
  let alice: string;
  let bob: string;
  const dev: Record<string, string> = {};

  beforeAll(async () => {
    db = database().db;
    await createSeason(
      db,
      {
        name: "test",
        startsAt: new Date(epochStartMs(FIRST, EPOCH_SECONDS)).toISOString(),
        endsAt: new Date(epochStartMs(FIRST + 100, EPOCH_SECONDS)).toISOString(),
        poolPerEpoch: "1000003",
        weights: { "sim-a100": 3, "sim-h100": 5, "sim-cpu": 1 },
        minUpMinutes: 30,
      },
      { knownProfiles: PROFILES, epochSeconds: EPOCH_SECONDS, createdBy: null },
    );
    alice = await insertSupplier(db);
    bob = await insertSupplier(db);
    dev.a = await insertDevice(db, alice, { profile: "sim-a100" });
    dev.b = await insertDevice(db, alice, { profile: "sim-h100" });
    dev.short = await insertDevice(db, alice, { profile: "sim-a100" });
    dev.quarantined = await insertDevice(db, alice, { profile: "sim-h100", status: "quarantined" });
    dev.unverified = await insertDevice(db, bob, { profile: "sim-h100", verification: "unverified" });
    dev.revoked = await insertDevice(db, bob, { profile: "sim-h100", status: "revoked" });
    dev.g = await insertDevice(db, bob, { profile: "sim-a100", status: "offline" });
    for (let epoch = FIRST; epoch < FIRST + 4; epoch++) {
      await recordUptime(db, dev.a, epoch, slots(0, 60));
      await recordUptime(db, dev.b, epoch, slots(0, 45 - (epoch - FIRST) * 5));
      await recordUptime(db, dev.short, epoch, slots(0, 20));
      await recordUptime(db, dev.quarantined, epoch, slots(0, 60));
      await recordUptime(db, dev.unverified, epoch, slots(0, 60));
      await recordUptime(db, dev.revoked, epoch, slots(0, 60));
      await recordUptime(db, dev.g, epoch, slots(10, 50 + (epoch - FIRST)));
    }
  });

  it("pays verified, active devices above the minimum exactly pool × weight × minutes / Σ, summing to the pool", async () => {
    const closed = await closeEpoch(db, { epoch: FIRST, epochSeconds: EPOCH_SECONDS });
    expect(closed).toMatchObject({ epoch: FIRST, total: 1_000_003n, devices: 3, alreadyClosed: false });
    // units: a = 3 × 60 = 180, b = 5 × 45 = 225, g = 3 × 40 = 120; Σ = 525. Floors 342858, 428572, 228572
    // leave 1 micro-unit, which goes to b (largest remainder, 375/525).
    const byDevice = Object.fromEntries((await rewardRows(db, FIRST)).map((r) => [r.device_id, r.amount]));
    expect(byDevice).toEqual({ [dev.a!]: "342858", [dev.b!]: "428573", [dev.g!]: "228572" });
  });

  it("publishes the root of StandardMerkleTree.of over (epoch, device, amount) in device-id order", async () => {
    const rows = await rewardRows(db, FIRST);
    // Leaves in ascending device id (JavaScript's order), without OpenZeppelin's re-sorting by hash.
    const leaves = rows
      .map((r) => [String(FIRST), r.device_id, r.amount])
      .sort((a, b) => (a[1]! < b[1]! ? -1 : 1));
    const reference = StandardMerkleTree.of(leaves, [...REWARD_LEAF_ENCODING], { sortLeaves: false });
    const epoch = await db
      .selectFrom("reward_epochs")
      .selectAll()
      .where("epoch", "=", String(FIRST))
      .executeTakeFirstOrThrow();
    expect(epoch.root).toBe(reference.root);
  });

  it("credits each owner's supplier earnings from the reward pool, balanced to zero", async () => {
    expect(await balanceOf(db, accountOf("supplier_earnings", alice))).toBe(342_858n + 428_573n);
    expect(await balanceOf(db, accountOf("supplier_earnings", bob))).toBe(228_572n);
    expect(await balanceOf(db, systemAccount("reward_pool"))).toBe(-1_000_003n);
    expect(await ledgerImbalance(db)).toBe(0n);
  });

  it("is idempotent: closing a closed epoch changes nothing and pays nobody twice", async () => {
    const again = await closeEpoch(db, { epoch: FIRST, epochSeconds: EPOCH_SECONDS });
    expect(again).toMatchObject({ alreadyClosed: true, total: 1_000_003n, devices: 3 });
    expect(await rewardRows(db, FIRST)).toHaveLength(3);
    expect(await balanceOf(db, accountOf("supplier_earnings", bob))).toBe(228_572n);
  });

  it.each<CloseStage>(["credits", "shares", "computed", "rewards", "tree", "ledger", "epoch"])(
    "leaves nothing behind when it crashes after the %s stage, and a rerun gives the recomputed root",
    async (stage) => {
      const epoch = FIRST + 1;
      const crash = closeEpoch(db, {
        epoch,
        epochSeconds: EPOCH_SECONDS,
        afterStage: (s) => {
          if (s === stage) throw new Error(`simulated crash after ${s}`);
        },
      });
      await expect(crash).rejects.toThrow(`simulated crash after ${stage}`);
      expect(await rewardRows(db, epoch)).toHaveLength(0);
      const pages = await db
        .selectFrom("reward_tree_pages")
        .select("page_root")
        .where("epoch", "=", String(epoch))
        .execute();
      expect(pages).toHaveLength(0);
      const ledger = await db
        .selectFrom("ledger_transactions")
        .select("id")
        .where("reference", "=", `reward-epoch:${epoch}`)
        .execute();
      expect(ledger).toHaveLength(0);
    },
  );

  it("after those crashes, closes cleanly with rows and root equal to a recompute from stored uptime", async () => {
    const epoch = FIRST + 1;
    const closed = await closeEpoch(db, { epoch, epochSeconds: EPOCH_SECONDS });
    expect(closed?.alreadyClosed).toBe(false);
    const check = await recomputeEpoch(db, epoch, EPOCH_SECONDS);
    expect(check.matches).toBe(true);
    expect(check.recomputed.root).toBe(closed?.root);
    const stored = new Map((await rewardRows(db, epoch)).map((r) => [r.device_id, BigInt(r.amount)]));
    expect(stored).toEqual(check.recomputed.amounts);
  });

  it("pays the formula's amounts in every one of several short epochs", async () => {
    for (let epoch = FIRST + 2; epoch < FIRST + 4; epoch++) {
      await closeEpoch(db, { epoch, epochSeconds: EPOCH_SECONDS });
      const rows = await rewardRows(db, epoch);
      const units = rows.map((r) => BigInt(r.weight * r.up_minutes));
      const sum = units.reduce((s, u) => s + u, 0n);
      const amounts = rows.map((r) => BigInt(r.amount));
      expect(amounts.reduce((s, a) => s + a, 0n)).toBe(1_000_003n);
      rows.forEach((_, i) => {
        const exact = (1_000_003n * units[i]!) / sum;
        expect(amounts[i]! - exact).toBeGreaterThanOrEqual(0n);
        expect(amounts[i]! - exact).toBeLessThanOrEqual(1n);
      });
      expect(rows.map((r) => r.device_id).sort()).toEqual([dev.a, dev.b, dev.g].sort());
      expect((await recomputeEpoch(db, epoch, EPOCH_SECONDS)).matches).toBe(true);
    }
  });

  it("keeps reward and ledger rows append-only", async () => {
    await expect(sql`update rewards set amount = amount + 1`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from ledger_postings`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`update reward_epochs set root = null`.execute(db)).rejects.toThrow(/append-only/);
  });

  it("has nothing to close outside every season", async () => {
    expect(await closeEpoch(db, { epoch: FIRST - 5, epochSeconds: EPOCH_SECONDS })).toBeUndefined();
  });
});
