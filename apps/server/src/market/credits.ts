import { randomBytes } from "node:crypto";
import { IgnisError } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { inTransaction } from "../db/in-transaction.js";
import { balanceOf } from "../ledger/balances.js";
import { postTransaction } from "../ledger/post-transaction.js";
import { parseMicroUnits } from "./billing.js";
import { marketAccounts } from "./escrow.js";

/** A grant of prepaid credit as requested by an admin. */
export interface CreditGrantInput {
  userId: string;
  amount: string | number;
  /** Idempotency key: the same reference grants once (a retry returns the same result). */
  reference?: string | undefined;
  note?: string | undefined;
  /** The account credited: the customer's balance (default) or a supplier's earnings, which stakes are paid from. */
  account?: "customer_balance" | "supplier_earnings" | undefined;
  grantedBy: string;
}

/** The outcome of a grant: the customer's new balance, and whether this call created the grant. */
export interface CreditGrantResult {
  userId: string;
  amount: bigint;
  balance: bigint;
  reference: string;
  account: "customer_balance" | "supplier_earnings";
  created: boolean;
}

/**
 * Grants prepaid credit: the network's issuance account pays the customer's balance. Card or on-chain payments
 * would post the same transaction from their own settlement account (see docs/payments.md).
 */
export async function grantCredits(db: Db, input: CreditGrantInput): Promise<CreditGrantResult> {
  const amount = parseMicroUnits(input.amount, "invalid_amount");
  const reference = input.reference ?? randomBytes(12).toString("hex");
  const kind = input.account ?? "customer_balance";
  const credited = kind === "supplier_earnings" ? marketAccounts.supplier : marketAccounts.customer;
  return inTransaction(db, async (trx) => {
    const user = await trx.selectFrom("users").select("id").where("id", "=", input.userId).executeTakeFirst();
    if (!user) throw new IgnisError("not_found", "no such user");
    const posted = await postTransaction(trx, {
      kind: "credit.grant",
      reference: `credit.grant:${reference}`,
      postings: [
        { account: marketAccounts.issuance(), amount: -amount },
        { account: credited(input.userId), amount },
      ],
      details: { grantedBy: input.grantedBy, ...(input.note ? { note: input.note } : {}) },
    });
    const balance = await balanceOf(trx, credited(input.userId));
    return { userId: input.userId, amount, balance, reference, account: kind, created: posted.created };
  });
}

/** A customer's spendable balance and what sits in escrow for their clusters that have not settled yet. */
export async function creditBalance(db: Db, userId: string): Promise<{ balance: bigint; held: bigint }> {
  const balance = await balanceOf(db, marketAccounts.customer(userId));
  const open = await db
    .selectFrom("ledger_postings as p")
    .innerJoin("clusters as c", (j) => j.on(sql<boolean>`p.account_id = 'escrow:' || c.id`))
    .select(sql<string>`coalesce(sum(p.amount), 0)::text`.as("held"))
    .where("c.customer_id", "=", userId)
    .where("c.settled_at", "is", null)
    .executeTakeFirstOrThrow();
  return { balance, held: BigInt(open.held) };
}
