import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { inTransaction } from "../db/in-transaction.js";
import { newId } from "../db/new-id.js";
import { lockAccounts } from "../ledger/accounts.js";
import { balanceOf } from "../ledger/balances.js";
import { postTransaction } from "../ledger/post-transaction.js";
import { earningsAccount, type StakeSettings, stakeAccount } from "./stake-settings.js";
import type { StakeStatus } from "./tables.js";

/** A stake as its owner sees it. */
export interface Stake {
  id: string;
  deviceId: string;
  ownerId: string;
  amount: bigint;
  bonded: bigint;
  status: StakeStatus;
  createdAt: Date;
  unbondRequestedAt: Date | null;
  releaseAt: Date | null;
  releasedAt: Date | null;
}

type StakeRow = {
  id: string;
  device_id: string;
  owner_id: string;
  amount: string;
  bonded: string;
  status: StakeStatus;
  created_at: Date;
  unbond_requested_at: Date | null;
  release_at: Date | null;
  released_at: Date | null;
};

function toStake(r: StakeRow): Stake {
  return {
    id: r.id,
    deviceId: r.device_id,
    ownerId: r.owner_id,
    amount: BigInt(r.amount),
    bonded: BigInt(r.bonded),
    status: r.status,
    createdAt: new Date(r.created_at),
    unbondRequestedAt: r.unbond_requested_at && new Date(r.unbond_requested_at),
    releaseAt: r.release_at && new Date(r.release_at),
    releasedAt: r.released_at && new Date(r.released_at),
  };
}

/**
 * Bonds `amount` micro-units for one of the owner's devices, paid from the owner's earnings account. The earnings
 * account is locked first, so two stakes racing for the same balance cannot both pass the check.
 */
export async function bondStake(
  db: Db,
  settings: StakeSettings,
  input: { ownerId: string; deviceId: string; amount: bigint; at: Date },
): Promise<Stake> {
  if (settings.perGpu === 0n) throw new IgnisError("staking_disabled", "staking is off on this network");
  if (input.amount <= 0n)
    throw new IgnisError("invalid_amount", "a stake is a positive amount of micro-units");
  return inTransaction(db, async (trx) => {
    const device = await trx
      .selectFrom("devices")
      .select(["owner_id", "status"])
      .where("id", "=", input.deviceId)
      .executeTakeFirst();
    if (!device || device.owner_id !== input.ownerId) throw new IgnisError("not_found", "no such object");
    if (device.status === "revoked") throw new IgnisError("device_revoked", "the device is revoked");
    const earnings = earningsAccount(input.ownerId);
    await lockAccounts(trx, [earnings]);
    const balance = await balanceOf(trx, earnings);
    if (balance < input.amount) {
      throw new IgnisError("insufficient_earnings", "the earnings balance does not cover this stake", {
        details: { balance: balance.toString(), required: input.amount.toString() },
      });
    }
    const id = newId("stk");
    await postTransaction(trx, {
      kind: "stake.bond",
      reference: `stake.bond:${id}`,
      postings: [
        { account: earnings, amount: -input.amount },
        { account: stakeAccount(id), amount: input.amount },
      ],
      details: { deviceId: input.deviceId },
    });
    const row = await trx
      .insertInto("stakes")
      .values({
        id,
        device_id: input.deviceId,
        owner_id: input.ownerId,
        amount: input.amount,
        bonded: input.amount,
        status: "bonded",
        created_at: input.at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toStake(row);
  });
}

/** One stake of the owner, or not_found (another owner's stake answers the same). */
export async function findStake(db: Db, stakeId: string): Promise<Stake | undefined> {
  const row = await db.selectFrom("stakes").selectAll().where("id", "=", stakeId).executeTakeFirst();
  return row && toStake(row);
}

/** The owner's stakes, newest first. */
export async function listStakes(db: Db, ownerId: string): Promise<Stake[]> {
  const rows = await db
    .selectFrom("stakes")
    .selectAll()
    .where("owner_id", "=", ownerId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(1000)
    .execute();
  return rows.map(toStake);
}

/**
 * Starts unbonding a bonded stake: it stops counting at once, stays locked and slashable, and its money returns
 * to the owner's earnings once `unbondSeconds` have passed (releaseDueStakes). The status flips only where it is
 * still `bonded`, so of two racing unbond requests exactly one wins.
 */
export async function unbondStake(
  db: Db,
  settings: StakeSettings,
  input: { stakeId: string; at: Date },
): Promise<Stake> {
  const releaseAt = new Date(input.at.getTime() + settings.unbondSeconds * 1000);
  const row = await db
    .updateTable("stakes")
    .set({ status: "unbonding", unbond_requested_at: input.at, release_at: releaseAt })
    .where("id", "=", input.stakeId)
    .where("status", "=", "bonded")
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new IgnisError("stake_not_bonded", "the stake is already unbonding or released");
  return toStake(row);
}

/**
 * Pays every unbonding stake whose time has come back to its owner's earnings (what slashes left of it), once:
 * the status flips where it is still `unbonding` and the ledger reference is per stake. Returns how many.
 */
export async function releaseDueStakes(db: Db, at: Date): Promise<number> {
  return inTransaction(db, async (trx) => {
    const due = await trx
      .updateTable("stakes")
      .set({ status: "released", released_at: at, bonded: "0" })
      .where("status", "=", "unbonding")
      .where("release_at", "<=", at)
      .returning(["id", "owner_id"])
      .execute();
    for (const stake of due) {
      const held = await balanceOf(trx, stakeAccount(stake.id));
      if (held === 0n) continue;
      await postTransaction(trx, {
        kind: "stake.release",
        reference: `stake.release:${stake.id}`,
        postings: [
          { account: stakeAccount(stake.id), amount: -held },
          { account: earningsAccount(stake.owner_id), amount: held },
        ],
      });
    }
    return due.length;
  });
}
