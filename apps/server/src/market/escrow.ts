import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { type AccountId, accountOf, lockAccounts, systemAccount } from "../ledger/accounts.js";
import { balanceOf } from "../ledger/balances.js";
import { type Posting, postTransaction } from "../ledger/post-transaction.js";
import type { SettlementStep } from "./billing.js";

/** The ledger accounts the marketplace moves money between. */
export const marketAccounts = {
  customer: (userId: string): AccountId => accountOf("customer_balance", userId),
  escrow: (clusterId: string): AccountId => accountOf("escrow", clusterId),
  supplier: (userId: string): AccountId => accountOf("supplier_earnings", userId),
  fees: (): AccountId => systemAccount("network_fee"),
  issuance: (): AccountId => systemAccount("credit_issuance"),
};

function nonZero(postings: Posting[]): Posting[] {
  return postings.filter((p) => p.amount !== 0n);
}

/**
 * Moves a rental's full price from the customer's balance into the cluster's escrow, refusing with
 * `insufficient_credit` when the balance is short. The customer's account is locked first, so two rentals racing
 * for the same credit cannot both pass the check.
 */
export async function holdEscrow(trx: Db, input: { clusterId: string; customerId: string; amount: bigint }) {
  // A free rental (simulated devices default to price 0) holds nothing; the ledger takes no zero postings.
  if (input.amount === 0n) return;
  const customer = marketAccounts.customer(input.customerId);
  await lockAccounts(trx, [customer]);
  const balance = await balanceOf(trx, customer);
  if (balance < input.amount) {
    throw new IgnisError("insufficient_credit", "the balance does not cover this rental", {
      details: { balance: balance.toString(), required: input.amount.toString() },
    });
  }
  await postTransaction(trx, {
    kind: "escrow.hold",
    reference: `cluster:${input.clusterId}:hold`,
    postings: [
      { account: customer, amount: -input.amount },
      { account: marketAccounts.escrow(input.clusterId), amount: input.amount },
    ],
  });
}

/** Pays one settlement step of a job: escrow → supplier, with the network's fee split off. */
export async function payFromEscrow(
  trx: Db,
  input: { clusterId: string; jobId: string; supplierId: string; step: SettlementStep; uptoMinutes: number },
): Promise<void> {
  if (input.step.charge === 0n) return;
  await assertEscrowCovers(trx, input.clusterId, input.step.charge);
  await postTransaction(trx, {
    kind: "escrow.settle",
    reference: `cluster:${input.clusterId}:settle:${input.jobId}:${input.uptoMinutes}`,
    postings: nonZero([
      { account: marketAccounts.escrow(input.clusterId), amount: -input.step.charge },
      { account: marketAccounts.supplier(input.supplierId), amount: input.step.supplierShare },
      { account: marketAccounts.fees(), amount: input.step.fee },
    ]),
    details: { jobId: input.jobId, minutes: input.step.minutes },
  });
}

/** Returns part of the escrow to the customer (a finished rank's unused time), under a unique reference. */
export async function refundFromEscrow(
  trx: Db,
  input: { clusterId: string; customerId: string; amount: bigint; reference: string },
): Promise<void> {
  if (input.amount === 0n) return;
  if (input.amount < 0n) throw new IgnisError("internal", "escrow: a refund cannot be negative");
  await assertEscrowCovers(trx, input.clusterId, input.amount);
  await postTransaction(trx, {
    kind: "escrow.refund",
    reference: `cluster:${input.clusterId}:refund:${input.reference}`,
    postings: [
      { account: marketAccounts.escrow(input.clusterId), amount: -input.amount },
      { account: marketAccounts.customer(input.customerId), amount: input.amount },
    ],
  });
}

/** Escrow never goes negative: a payment larger than what is held is a bug, refused before it is posted. */
async function assertEscrowCovers(trx: Db, clusterId: string, amount: bigint): Promise<void> {
  const held = await balanceOf(trx, marketAccounts.escrow(clusterId));
  if (held < amount) {
    throw new IgnisError("internal", "escrow: a payment would make the escrow negative", {
      details: { clusterId, held: held.toString(), amount: amount.toString() },
    });
  }
}
