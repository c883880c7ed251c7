import { randomBytes } from "node:crypto";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import { systemAccount } from "../ledger/accounts.js";
import { postTransaction } from "../ledger/post-transaction.js";
import { slashForFraud } from "./slash.js";
import { earningsAccount, type StakeSettings } from "./stake-settings.js";
import { bondStake } from "./stakes.js";

/** Test support: pays a supplier's earnings account from the reward pool, as an epoch's rewards would. */
export async function earn(db: Db, userId: string, amount: bigint): Promise<void> {
  await postTransaction(db, {
    kind: "reward.epoch",
    reference: `test-earn:${newId("ltx")}`,
    postings: [
      { account: earningsAccount(userId), amount },
      { account: systemAccount("reward_pool"), amount: -amount },
    ],
  });
}

/** Test support: a decided challenge of the device, stored as the proof service records one. */
export async function decidedChallenge(
  db: Db,
  deviceId: string,
  outcome: "pass" | "fail" | "timeout",
  reason: string | null,
  issuedAt: Date,
): Promise<string> {
  const id = randomBytes(16).toString("hex");
  await db
    .insertInto("proof_challenges")
    .values({
      id,
      device_id: deviceId,
      profile: "test-gpu",
      gpu_count: 1,
      n: 256,
      inner_dim: 64,
      batch: 2,
      reveal_rows: 8,
      expected_ms: 12.5,
      deadline_ms: 900,
      rtt_ms: 3,
      trigger: "schedule",
      replica: "r1",
      issued_at: issuedAt,
      commit_at: new Date(issuedAt.getTime() + 20),
      decided_at: new Date(issuedAt.getTime() + 40),
      outcome,
      reason,
      rows_checked: 8,
      // Admin-only: which row failed; a slash's public evidence must never carry it.
      detail: `row ${randomBytes(6).toString("hex")} differs`,
    })
    .execute();
  return id;
}

/** Test support: stakes `amount` for the owner's device (earning it first) and slashes it for a wrong row. */
export async function stakedAndSlashed(
  db: Db,
  settings: StakeSettings,
  input: { ownerId: string; deviceId: string; amount: bigint },
): Promise<{ stakeId: string; slashId: string; challengeId: string }> {
  await earn(db, input.ownerId, input.amount);
  const stake = await bondStake(db, settings, { ...input, at: new Date() });
  const challengeId = await decidedChallenge(db, input.deviceId, "fail", "wrong_row", new Date());
  const slash = await slashForFraud(db, settings, { challengeId, at: new Date() });
  if (!slash) throw new Error("fixture: the slash was not made");
  return { stakeId: stake.id, slashId: slash.id, challengeId };
}
