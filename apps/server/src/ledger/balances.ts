import { sql } from "kysely";
import type { Db } from "../db/database.js";
import type { AccountId } from "./accounts.js";

/** The balance of one account: the sum of its postings in micro-units (0 for an account never posted to). */
export async function balanceOf(db: Db, account: AccountId): Promise<bigint> {
  const row = await db
    .selectFrom("ledger_postings")
    .select(sql<string>`coalesce(sum(amount), 0)::text`.as("balance"))
    .where("account_id", "=", account)
    .executeTakeFirstOrThrow();
  return BigInt(row.balance);
}

/** The balances of several accounts at once; accounts never posted to are 0. */
export async function balancesOf(db: Db, accounts: readonly AccountId[]): Promise<Map<AccountId, bigint>> {
  const result = new Map<AccountId, bigint>(accounts.map((a) => [a, 0n]));
  if (accounts.length === 0) return result;
  const rows = await db
    .selectFrom("ledger_postings")
    .select(["account_id", sql<string>`sum(amount)::text`.as("balance")])
    .where("account_id", "in", [...new Set(accounts)])
    .groupBy("account_id")
    .execute();
  for (const row of rows) result.set(row.account_id as AccountId, BigInt(row.balance));
  return result;
}

/** The sum of every posting in the ledger: always 0 when every transaction balanced (an audit check). */
export async function ledgerImbalance(db: Db): Promise<bigint> {
  const row = await db
    .selectFrom("ledger_postings")
    .select(sql<string>`coalesce(sum(amount), 0)::text`.as("sum"))
    .executeTakeFirstOrThrow();
  return BigInt(row.sum);
}
