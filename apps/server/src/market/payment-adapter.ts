import type { Db } from "../db/database.js";
import { type CreditGrantResult, grantCredits } from "./credits.js";

/** A payment a provider has confirmed: who paid, how much (micro-units), and the provider's own id for it. */
export interface ConfirmedDeposit {
  provider: string;
  /** The provider's id of the payment (a Stripe PaymentIntent, a transaction hash): grants credit once. */
  providerReference: string;
  userId: string;
  amount: bigint;
}

/**
 * Where card or on-chain payments plug in (docs/payments.md). An adapter starts a deposit for a customer and
 * turns the provider's signed notification into a confirmed deposit; the market credits it. None ships yet:
 * credit is granted by admins.
 */
export interface PaymentAdapter {
  readonly provider: string;
  /** Starts a deposit: a checkout URL for cards, an address and memo for a chain. */
  startDeposit(input: {
    userId: string;
    amount: bigint;
  }): Promise<{ reference: string; instructions: string }>;
  /** Verifies a provider notification (signature, confirmations); null when it confirms nothing. */
  confirm(body: string, headers: Record<string, string | undefined>): Promise<ConfirmedDeposit | null>;
}

/** Credits a confirmed deposit to the customer's balance, exactly once per provider reference. */
export function creditDeposit(db: Db, deposit: ConfirmedDeposit): Promise<CreditGrantResult> {
  return grantCredits(db, {
    userId: deposit.userId,
    amount: deposit.amount.toString(),
    reference: `payment:${deposit.provider}:${deposit.providerReference}`,
    note: `deposit via ${deposit.provider}`,
    grantedBy: `payment:${deposit.provider}`,
  });
}
