import { createHash } from "node:crypto";
import { slashTranscriptText } from "@ignis/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { balanceOf, ledgerImbalance } from "../ledger/balances.js";
import { createTestUser, insertDevices } from "../market/market-fixtures.js";
import { describeEachDialect } from "../testing/dialects.js";
import { appealSlash, resolveAppeals } from "./appeal.js";
import { deviceEligibility, stakeCovers } from "./eligibility.js";
import { slashForFraud } from "./slash.js";
import { challengeTranscript } from "./slash-transcript.js";
import { listSlashes } from "./slash-views.js";
import { decidedChallenge, earn } from "./stake-fixtures.js";
import { earningsAccount, type StakeSettings, slashedStakesAccount, stakeAccount } from "./stake-settings.js";
import { bondStake, findStake, releaseDueStakes, unbondStake } from "./stakes.js";

const ON: StakeSettings = { perGpu: 1_000_000n, slashBps: 1000, unbondSeconds: 3600, pendingSeconds: 0 };
const T0 = new Date(Date.UTC(2026, 11, 6, 12, 0, 0));
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** The ledger agrees with the stake rows: every stake's account holds exactly its `bonded`. */
async function expectStakesMatchLedger(db: Db): Promise<void> {
  const stakes = await db.selectFrom("stakes").select(["id", "bonded"]).execute();
  for (const s of stakes) expect(await balanceOf(db, stakeAccount(s.id))).toBe(BigInt(s.bonded));
  expect(await ledgerImbalance(db)).toBe(0n);
}

describeEachDialect("stakes and slashing", (database) => {
  let db: Db;
  let supplier: string;
  let other: string;
  let device: string;
  beforeAll(async () => {
    db = database().db;
    supplier = await createTestUser(db, ["supplier"]);
    other = await createTestUser(db, ["supplier"]);
    [device] = (await insertDevices(db, { ownerId: supplier, count: 1, seenAt: T0.getTime() })) as [string];
    await earn(db, supplier, 10_000_000n);
  });

  describe("bonding", () => {
    it("refuses to stake while staking is off, for another owner's device, or beyond the earnings", async () => {
      const input = { ownerId: supplier, deviceId: device, amount: 1n, at: T0 };
      await expect(bondStake(db, { ...ON, perGpu: 0n }, input)).rejects.toMatchObject({
        code: "staking_disabled",
      });
      await expect(bondStake(db, ON, { ...input, ownerId: other })).rejects.toMatchObject({
        code: "not_found",
      });
      await expect(bondStake(db, ON, { ...input, amount: 10_000_001n })).rejects.toMatchObject({
        code: "insufficient_earnings",
      });
      await expect(bondStake(db, ON, { ...input, amount: 0n })).rejects.toMatchObject({
        code: "invalid_amount",
      });
      expect(await balanceOf(db, earningsAccount(supplier))).toBe(10_000_000n);
    });

    it("makes a verified device hireable and earning only once its stake covers the rule", async () => {
      const row = { id: device, status: "online", verification: "verified", gpuCount: 1, verifiedAt: null };
      expect(await deviceEligibility(db, ON, row)).toEqual({
        hireable: false,
        earning: false,
        reasons: ["stake_missing"],
      });
      expect(await deviceEligibility(db, { ...ON, perGpu: 0n }, row)).toMatchObject({ hireable: true });
      const covered = () =>
        db
          .selectFrom("devices as d")
          .select("d.id")
          .where("d.id", "=", device)
          .where(stakeCovers(ON, { id: "d.id", gpuCount: "d.gpu_count" }))
          .execute();
      expect(await covered()).toHaveLength(0);
      await bondStake(db, ON, { ownerId: supplier, deviceId: device, amount: 1_000_000n, at: T0 });
      expect(await deviceEligibility(db, ON, row)).toEqual({ hireable: true, earning: true, reasons: [] });
      expect(await covered()).toHaveLength(1);
      expect(await balanceOf(db, earningsAccount(supplier))).toBe(9_000_000n);
      await expectStakesMatchLedger(db);
    });

    it("lets only one of two stakes racing for the same earnings through", async () => {
      const [rich] = [await createTestUser(db, ["supplier"])];
      const [dev] = (await insertDevices(db, { ownerId: rich, count: 1, seenAt: T0.getTime() })) as [string];
      await earn(db, rich, 1_500_000n);
      const race = await Promise.allSettled([
        bondStake(db, ON, { ownerId: rich, deviceId: dev, amount: 1_000_000n, at: T0 }),
        bondStake(db, ON, { ownerId: rich, deviceId: dev, amount: 1_000_000n, at: T0 }),
      ]);
      expect(race.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(race.find((r) => r.status === "rejected")).toMatchObject({
        reason: { code: "insufficient_earnings" },
      });
      expect(await balanceOf(db, earningsAccount(rich))).toBe(500_000n);
      await expectStakesMatchLedger(db);
    });
  });

  describe("unbonding", () => {
    it("lets exactly one of two racing unbond requests win, and pays back only after the delay", async () => {
      const stake = await bondStake(db, ON, {
        ownerId: supplier,
        deviceId: device,
        amount: 2_000_000n,
        at: T0,
      });
      const before = await balanceOf(db, earningsAccount(supplier));
      const race = await Promise.allSettled([
        unbondStake(db, ON, { stakeId: stake.id, at: at(10) }),
        unbondStake(db, ON, { stakeId: stake.id, at: at(10) }),
      ]);
      expect(race.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(race.find((r) => r.status === "rejected")).toMatchObject({
        reason: { code: "stake_not_bonded" },
      });
      expect((await findStake(db, stake.id))?.releaseAt).toEqual(at(3610));
      expect(await releaseDueStakes(db, at(3609))).toBe(0);
      expect(await balanceOf(db, earningsAccount(supplier))).toBe(before);
      expect(await releaseDueStakes(db, at(3610))).toBe(1);
      expect(await releaseDueStakes(db, at(3610))).toBe(0);
      expect(await balanceOf(db, earningsAccount(supplier))).toBe(before + 2_000_000n);
      expect(await findStake(db, stake.id)).toMatchObject({ status: "released", bonded: 0n });
      await expect(unbondStake(db, ON, { stakeId: stake.id, at: at(4000) })).rejects.toMatchObject({
        code: "stake_not_bonded",
      });
      await expectStakesMatchLedger(db);
    });
  });

  describe("slashing", () => {
    it("never slashes for an outage or a late answer, only for a fraud-class failure", async () => {
      for (const [outcome, reason] of [
        ["timeout", "no_answer"],
        ["fail", "commit_late"],
        ["fail", "reveal_late"],
        ["fail", "malformed_reveal"],
        ["timeout", "session_closed"],
        ["pass", null],
      ] as const) {
        const challenge = await decidedChallenge(db, device, outcome, reason, at(100));
        expect(
          await slashForFraud(db, ON, { challengeId: challenge, at: at(101) }),
          reason ?? "pass",
        ).toBeNull();
      }
      expect(await db.selectFrom("slashes").select("id").execute()).toHaveLength(0);
    });

    it("slashes each fraud reason once per challenge by exactly IGNIS_SLASH_BPS, into slashed_stakes", async () => {
      const [owner, dev] = await stakedDevice(2_000_000n);
      let held = 2_000_000n;
      for (const reason of ["wrong_row", "bad_proof", "vram_short", "speed_short"]) {
        const challenge = await decidedChallenge(db, dev, "fail", reason, at(200));
        const slash = await slashForFraud(db, ON, { challengeId: challenge, at: at(201) });
        expect(slash?.amount, reason).toBe(held / 10n);
        held -= held / 10n;
        expect(await slashForFraud(db, ON, { challengeId: challenge, at: at(202) })).toBeNull();
      }
      const stakes = await db.selectFrom("stakes").select("bonded").where("device_id", "=", dev).execute();
      expect(stakes.map((s) => BigInt(s.bonded))).toEqual([held]);
      expect(held).toBe(1_312_200n);
      expect(await deviceEligibility(db, { ...ON, perGpu: 2_000_000n }, deviceRow(dev))).toMatchObject({
        hireable: false,
        reasons: ["stake_missing"],
      });
      expect(await balanceOf(db, earningsAccount(owner))).toBe(0n);
      await expectStakesMatchLedger(db);
    });

    it("publishes evidence anyone can recheck: the transcript hashes to the published hash, with no owner", async () => {
      const [owner, dev] = await stakedDevice(1_000_000n);
      const challenge = await decidedChallenge(db, dev, "fail", "wrong_row", at(300));
      const made = await slashForFraud(db, ON, { challengeId: challenge, at: at(301) });
      const { items } = await listSlashes(db, { deviceId: dev });
      expect(items).toHaveLength(1);
      const [item] = items as [(typeof items)[number]];
      expect(item).toMatchObject({ id: made?.id, amount: "100000", reason: "wrong_row", appeal: null });
      const recomputed = createHash("sha256")
        .update(slashTranscriptText(item.evidence.transcript))
        .digest("hex");
      expect(recomputed).toBe(item.evidence.transcriptHash);
      expect(item.evidence.transcript).toEqual(await challengeTranscript(db, challenge));
      expect(JSON.stringify(items)).not.toContain(owner);
      // A transcript edited after the fact no longer matches the published hash.
      const forged = { ...item.evidence.transcript, reason: "no_answer" };
      expect(createHash("sha256").update(slashTranscriptText(forged)).digest("hex")).not.toBe(
        item.evidence.transcriptHash,
      );
    });

    it("still slashes a stake that is unbonding, so leaving cannot outrun a proof", async () => {
      const [, dev, stakeId] = await stakedDevice(1_000_000n);
      await unbondStake(db, ON, { stakeId, at: at(400) });
      const challenge = await decidedChallenge(db, dev, "fail", "bad_proof", at(401));
      expect((await slashForFraud(db, ON, { challengeId: challenge, at: at(402) }))?.amount).toBe(100_000n);
      await expectStakesMatchLedger(db);
    });
  });

  describe("appeals", () => {
    it("refunds a slash exactly when a re-proof issued after the appeal passes", async () => {
      const [owner, dev, stakeId] = await stakedDevice(3_000_000n);
      const failed = await decidedChallenge(db, dev, "fail", "vram_short", at(500));
      const slash = await slashForFraud(db, ON, { challengeId: failed, at: at(501) });
      const pool = await balanceOf(db, slashedStakesAccount());
      await appealSlash(db, { slashId: slash!.id, reason: "driver crash during the proof", at: at(510) });
      await expect(
        appealSlash(db, { slashId: slash!.id, reason: "again", at: at(511) }),
      ).rejects.toMatchObject({
        code: "appeal_exists",
      });
      // A pass that began before the appeal, or an outage after it, decides nothing.
      const early = await decidedChallenge(db, dev, "pass", null, at(505));
      expect(await resolveAppeals(db, { challengeId: early, at: at(512) })).toEqual([]);
      const outage = await decidedChallenge(db, dev, "timeout", "no_answer", at(515));
      expect(await resolveAppeals(db, { challengeId: outage, at: at(516) })).toEqual([]);
      const reproof = await decidedChallenge(db, dev, "pass", null, at(520));
      expect(await resolveAppeals(db, { challengeId: reproof, at: at(521) })).toEqual([
        { slashId: slash!.id, status: "refunded", amount: 300_000n },
      ]);
      expect(await resolveAppeals(db, { challengeId: reproof, at: at(522) })).toEqual([]);
      expect(await findStake(db, stakeId)).toMatchObject({ bonded: 3_000_000n });
      expect(await balanceOf(db, slashedStakesAccount())).toBe(pool - 300_000n);
      expect(await balanceOf(db, earningsAccount(owner))).toBe(0n);
      const { items } = await listSlashes(db, { deviceId: dev });
      expect(items[0]?.appeal).toMatchObject({ status: "refunded", resolvedAt: at(521).toISOString() });
      await expectStakesMatchLedger(db);
    });

    it("rejects an appeal when the re-proof fails for fraud again, and refunds a released stake to earnings", async () => {
      const [owner, dev, stakeId] = await stakedDevice(1_000_000n);
      const first = await slashForFraud(db, ON, {
        challengeId: await decidedChallenge(db, dev, "fail", "wrong_row", at(600)),
        at: at(601),
      });
      await appealSlash(db, { slashId: first!.id, reason: "honest", at: at(602) });
      const again = await decidedChallenge(db, dev, "fail", "wrong_row", at(603));
      expect(await resolveAppeals(db, { challengeId: again, at: at(604) })).toMatchObject([
        { slashId: first!.id, status: "rejected" },
      ]);
      const second = await slashForFraud(db, ON, { challengeId: again, at: at(604) });
      await unbondStake(db, ON, { stakeId, at: at(605) });
      await releaseDueStakes(db, at(605 + 3600));
      expect(await balanceOf(db, earningsAccount(owner))).toBe(1_000_000n - 100_000n - 90_000n);
      await appealSlash(db, { slashId: second!.id, reason: "honest", at: at(5000) });
      const pass = await decidedChallenge(db, dev, "pass", null, at(5001));
      expect(await resolveAppeals(db, { challengeId: pass, at: at(5002) })).toMatchObject([
        { status: "refunded" },
      ]);
      expect(await balanceOf(db, earningsAccount(owner))).toBe(1_000_000n - 100_000n);
      await expectStakesMatchLedger(db);
    });
  });

  function deviceRow(id: string) {
    return { id, status: "online", verification: "verified", gpuCount: 1, verifiedAt: null };
  }

  /** A fresh supplier with one device staked `amount` (all their earnings). */
  async function stakedDevice(amount: bigint): Promise<[string, string, string]> {
    const owner = await createTestUser(db, ["supplier"]);
    const [dev] = (await insertDevices(db, { ownerId: owner, count: 1, seenAt: T0.getTime() })) as [string];
    await earn(db, owner, amount);
    const stake = await bondStake(db, ON, { ownerId: owner, deviceId: dev, amount, at: T0 });
    return [owner, dev, stake.id];
  }
});
