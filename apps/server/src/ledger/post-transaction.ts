import { IgnisError } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import { packedColumn } from "../db/packed-columns.js";
import { type AccountId, ensureAccounts } from "./accounts.js";

/** One leg of a transaction: a signed amount of micro-units on one account. */
export interface Posting {
  account: AccountId;
  amount: bigint;
}

/** A balanced set of postings with an idempotency reference unique across the ledger. */
export interface TransactionInput {
  /** What happened, for readers: `reward.epoch`, `credit.grant`, `escrow.hold`, `settlement`, ... */
  kind: string;
  /** Unique per transaction: posting the same reference again returns the first transaction. */
  reference: string;
  postings: readonly Posting[];
  details?: Record<string, unknown>;
}

/** The stored transaction and whether this call created it (false: the reference existed already). */
export interface PostedTransaction {
  id: string;
  created: boolean;
}

/**
 * Appends a transaction whose postings sum to zero. Call it inside the caller's database transaction (`trx`),
 * which decides atomicity with the caller's other writes. Repeating a reference with the same postings returns
 * the stored transaction; with different postings it is refused as a conflict.
 */
export async function postTransaction(trx: Db, input: TransactionInput): Promise<PostedTransaction> {
  const postings = validate(input);
  await ensureAccounts(
    trx,
    postings.map((p) => p.account),
  );
  const id = newId("ltx");
  const inserted = await trx
    .insertInto("ledger_transactions")
    .values({
      id,
      kind: input.kind,
      reference: input.reference,
      details: JSON.stringify(input.details ?? {}),
    })
    .onConflict((oc) => oc.column("reference").doNothing())
    .returning("id")
    .executeTakeFirst();
  if (!inserted) return { id: await sameAsStored(trx, input.reference, postings), created: false };
  for (let i = 0; i < postings.length; i += 10_000) {
    const batch = postings.slice(i, i + 10_000);
    await trx
      .insertInto("ledger_postings")
      .columns(["transaction_id", "account_id", "amount"])
      .expression(
        sql`select ${id}::text, * from unnest(${packedColumn(
          batch.map((p) => p.account),
          "text",
        )}, ${packedColumn(
          batch.map((p) => p.amount),
          "bigint",
        )})`,
      )
      .execute();
  }
  return { id, created: true };
}

function validate(input: TransactionInput): Posting[] {
  if (!input.reference || input.reference.length > 200) {
    throw new IgnisError("internal", "ledger: a transaction needs a reference of at most 200 characters");
  }
  if (input.postings.length < 2) throw new IgnisError("internal", "ledger: a transaction needs two postings");
  const seen = new Set<string>();
  let sum = 0n;
  for (const p of input.postings) {
    if (typeof p.amount !== "bigint" || p.amount === 0n) {
      throw new IgnisError("internal", "ledger: posting amounts are non-zero bigint micro-units");
    }
    if (seen.has(p.account)) throw new IgnisError("internal", `ledger: account ${p.account} posted twice`);
    seen.add(p.account);
    sum += p.amount;
  }
  if (sum !== 0n)
    throw new IgnisError("internal", `ledger: postings of ${input.reference} sum to ${sum}, not 0`);
  return [...input.postings].sort((a, b) => (a.account < b.account ? -1 : 1));
}

async function sameAsStored(trx: Db, reference: string, postings: Posting[]): Promise<string> {
  const stored = await trx
    .selectFrom("ledger_transactions as t")
    .innerJoin("ledger_postings as p", "p.transaction_id", "t.id")
    .select(["t.id", "p.account_id", sql<string>`p.amount::text`.as("amount")])
    .where("t.reference", "=", reference)
    .orderBy("p.account_id")
    .execute();
  const same =
    stored.length === postings.length &&
    stored.every(
      (row, i) => row.account_id === postings[i]!.account && BigInt(row.amount) === postings[i]!.amount,
    );
  if (!same || !stored[0]) {
    throw new IgnisError("conflict", "a different transaction with this reference exists", {
      details: { reference },
    });
  }
  return stored[0].id;
}
