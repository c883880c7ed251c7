import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { inTransaction } from "../db/in-transaction.js";
import { postTransaction } from "../ledger/post-transaction.js";
import { slashes } from "./slash.js";
import { earningsAccount, slashedStakesAccount, stakeAccount } from "./stake-settings.js";
import type { SlashLeg } from "./tables.js";

/** The owner and device of a slash, for the route's ownership check. */
export async function findSlash(
  db: Db,
  slashId: string,
): Promise<{ id: string; deviceId: string; ownerId: string } | undefined> {
  const row = await db
    .selectFrom("slashes")
    .select(["id", "device_id", "owner_id"])
    .where("id", "=", slashId)
    .executeTakeFirst();
  return row && { id: row.id, deviceId: row.device_id, ownerId: row.owner_id };
}

/**
 * Appeals a slash (once): it waits for a re-proof, which the caller asks the proof service for once this has
 * committed. The first challenge of the device issued after the appeal decides it (resolveAppeals).
 */
export async function appealSlash(
  db: Db,
  input: { slashId: string; reason: string; at: Date },
): Promise<{ deviceId: string }> {
  const row = await db
    .updateTable("slashes")
    .set({ appeal_status: "pending", appeal_reason: input.reason, appealed_at: input.at })
    .where("id", "=", input.slashId)
    .where("appeal_status", "is", null)
    .returning("device_id")
    .executeTakeFirst();
  if (!row) throw new IgnisError("appeal_exists", "this slash has been appealed already");
  return { deviceId: row.device_id };
}

/** What a decided challenge did to the device's pending appeals. */
export interface AppealResolution {
  slashId: string;
  status: "refunded" | "rejected";
  amount: bigint;
}

/**
 * Decides the device's pending appeals with a challenge issued after them: a pass refunds each slash exactly
 * (every stake gets back what it gave; a stake released since is paid into its owner's earnings instead), a
 * fraud-class failure rejects them, and anything else (an outage, a timeout) leaves them pending.
 */
export async function resolveAppeals(
  db: Db,
  input: { challengeId: string; at: Date },
): Promise<AppealResolution[]> {
  return inTransaction(db, async (trx) => {
    const challenge = await trx
      .selectFrom("proof_challenges")
      .select(["device_id", "issued_at", "outcome", "reason"])
      .where("id", "=", input.challengeId)
      .executeTakeFirst();
    if (!challenge) return [];
    const passed = challenge.outcome === "pass";
    if (!passed && !(challenge.outcome === "fail" && slashes(challenge.reason))) return [];
    const pending = await trx
      .selectFrom("slashes")
      .select(["id", "amount", "legs"])
      .where("device_id", "=", challenge.device_id)
      .where("appeal_status", "=", "pending")
      .where("appealed_at", "<=", challenge.issued_at)
      .orderBy("id")
      .forUpdate()
      .execute();
    const resolved: AppealResolution[] = [];
    for (const slash of pending) {
      const status = passed ? "refunded" : "rejected";
      await trx
        .updateTable("slashes")
        .set({ appeal_status: status, appeal_challenge_id: input.challengeId, appeal_resolved_at: input.at })
        .where("id", "=", slash.id)
        .execute();
      if (passed) await refund(trx, slash.id, slash.legs);
      resolved.push({ slashId: slash.id, status, amount: BigInt(slash.amount) });
    }
    return resolved;
  });
}

async function refund(trx: Db, slashId: string, legs: SlashLeg[]): Promise<void> {
  const stakes = await trx
    .selectFrom("stakes")
    .select(["id", "owner_id", "status"])
    .where(
      "id",
      "in",
      legs.map((l) => l.stakeId),
    )
    .orderBy("id")
    .forUpdate()
    .execute();
  const byId = new Map(stakes.map((s) => [s.id, s]));
  const postings = [];
  let total = 0n;
  for (const leg of legs) {
    const stake = byId.get(leg.stakeId)!;
    const amount = BigInt(leg.amount);
    total += amount;
    if (stake.status === "released") {
      postings.push({ account: earningsAccount(stake.owner_id), amount });
    } else {
      postings.push({ account: stakeAccount(stake.id), amount });
      await trx
        .updateTable("stakes")
        .set((eb) => ({ bonded: eb("bonded", "+", leg.amount) }))
        .where("id", "=", stake.id)
        .execute();
    }
  }
  await postTransaction(trx, {
    kind: "stake.refund",
    reference: `stake.refund:${slashId}`,
    postings: [{ account: slashedStakesAccount(), amount: -total }, ...mergeByAccount(postings)],
    details: { slashId },
  });
}

function mergeByAccount<T extends { account: string; amount: bigint }>(postings: T[]): T[] {
  const merged = new Map<string, T>();
  for (const p of postings) {
    const seen = merged.get(p.account);
    merged.set(p.account, seen ? { ...seen, amount: seen.amount + p.amount } : p);
  }
  return [...merged.values()];
}
