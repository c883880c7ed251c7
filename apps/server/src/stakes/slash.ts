import type { Db } from "../db/database.js";
import { inTransaction } from "../db/in-transaction.js";
import { newId } from "../db/new-id.js";
import { postTransaction } from "../ledger/post-transaction.js";
import { fraudReasons, type ProofFailureReason } from "../proof/verify-reveal.js";
import { challengeTranscript, transcriptHash } from "./slash-transcript.js";
import { type StakeSettings, slashedStakesAccount, stakeAccount } from "./stake-settings.js";
import type { SlashLeg } from "./tables.js";

/** A slash just made. */
export interface MadeSlash {
  id: string;
  deviceId: string;
  amount: bigint;
  legs: SlashLeg[];
  transcriptHash: string;
}

/** True for the proof failures that slash (bad_proof, wrong_row, vram_short, speed_short): never an outage. */
export function slashes(reason: string | null): boolean {
  return reason !== null && fraudReasons.has(reason as ProofFailureReason);
}

/**
 * Slashes a device for a decided challenge that failed for a fraud-class reason: each of its bonded or unbonding
 * stakes gives floor(held × IGNIS_SLASH_BPS / 10 000) to the `slashed_stakes` account, in one ledger transaction
 * with the slash row and its evidence (the challenge's transcript and hash). Any other outcome, a device with no
 * stake, or a challenge slashed already changes nothing (null). The stakes are locked first, so a slash racing
 * a release or another slash takes from what is really held.
 */
export async function slashForFraud(
  db: Db,
  settings: StakeSettings,
  input: { challengeId: string; at: Date },
): Promise<MadeSlash | null> {
  if (settings.slashBps === 0) return null;
  return inTransaction(db, async (trx) => {
    const transcript = await challengeTranscript(trx, input.challengeId);
    if (transcript.outcome !== "fail" || !slashes(transcript.reason)) return null;
    const stakes = await trx
      .selectFrom("stakes")
      .select(["id", "owner_id", "bonded"])
      .where("device_id", "=", transcript.deviceId)
      .where("status", "in", ["bonded", "unbonding"])
      .orderBy("id")
      .forUpdate()
      .execute();
    const legs = stakes
      .map((s) => ({ stakeId: s.id, amount: (BigInt(s.bonded) * BigInt(settings.slashBps)) / 10_000n }))
      .filter((leg) => leg.amount > 0n);
    if (legs.length === 0) return null;
    const amount = legs.reduce((sum, leg) => sum + leg.amount, 0n);
    const device = await trx
      .selectFrom("devices")
      .select("owner_id")
      .where("id", "=", transcript.deviceId)
      .executeTakeFirstOrThrow();
    const id = newId("slh");
    const hash = transcriptHash(transcript);
    const storedLegs = legs.map((l) => ({ stakeId: l.stakeId, amount: l.amount.toString() }));
    const inserted = await trx
      .insertInto("slashes")
      .values({
        id,
        device_id: transcript.deviceId,
        owner_id: device.owner_id,
        challenge_id: input.challengeId,
        reason: transcript.reason!,
        amount,
        legs: JSON.stringify(storedLegs),
        transcript: JSON.stringify(transcript),
        transcript_hash: hash,
        at: input.at,
      })
      .onConflict((oc) => oc.column("challenge_id").doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted) return null;
    await postTransaction(trx, {
      kind: "stake.slash",
      reference: `stake.slash:${id}`,
      postings: [
        ...legs.map((l) => ({ account: stakeAccount(l.stakeId), amount: -l.amount })),
        { account: slashedStakesAccount(), amount },
      ],
      details: { deviceId: transcript.deviceId, challengeId: input.challengeId, reason: transcript.reason },
    });
    for (const leg of legs) {
      await trx
        .updateTable("stakes")
        .set((eb) => ({ bonded: eb("bonded", "-", leg.amount.toString()) }))
        .where("id", "=", leg.stakeId)
        .execute();
    }
    return { id, deviceId: transcript.deviceId, amount, legs: storedLegs, transcriptHash: hash };
  });
}
