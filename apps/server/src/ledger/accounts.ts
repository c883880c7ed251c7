import { IgnisError } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { packedColumn } from "../db/packed-columns.js";

/** Kinds of accounts owned by someone (a user, or an object such as a cluster for escrow). */
export type OwnedAccountKind = "supplier_earnings" | "customer_balance" | "escrow" | "stake";
/** Kinds of the network's own accounts, one of each. */
export type SystemAccountKind =
  | "reward_pool"
  | "network_fee"
  | "credit_issuance"
  | "payouts"
  /** Where slashed stake goes (and whence an upheld appeal refunds it). */
  | "slashed_stakes";
/** Any account kind. */
export type AccountKind = OwnedAccountKind | SystemAccountKind;

/**
 * An account's id: `kind:ownerId` for owned accounts, `kind` for system accounts. Build it with accountOf or
 * systemAccount so a typo cannot open a new account.
 */
export type AccountId = string & { readonly __brand: "AccountId" };

const OWNED = new Set<string>(["supplier_earnings", "customer_balance", "escrow", "stake"]);
const SYSTEM = new Set<string>([
  "reward_pool",
  "network_fee",
  "credit_issuance",
  "payouts",
  "slashed_stakes",
]);
const OWNER = /^[a-z]{2,4}_[a-z0-9]{26}$/;

/** The account of one kind owned by a user (or by an object, such as a cluster's escrow). */
export function accountOf(kind: OwnedAccountKind, ownerId: string): AccountId {
  if (!OWNED.has(kind)) throw new IgnisError("internal", `ledger: ${kind} is not an owned account kind`);
  if (!OWNER.test(ownerId)) throw new IgnisError("internal", "ledger: an account owner must be an Ignis id");
  return `${kind}:${ownerId}` as AccountId;
}

/** The network's own account of a kind. */
export function systemAccount(kind: SystemAccountKind): AccountId {
  if (!SYSTEM.has(kind)) throw new IgnisError("internal", `ledger: ${kind} is not a system account kind`);
  return kind as AccountId;
}

/** Splits an account id into its kind and owner. */
export function parseAccountId(id: AccountId): { kind: AccountKind; ownerId: string | null } {
  const colon = id.indexOf(":");
  if (colon < 0) return { kind: id as SystemAccountKind, ownerId: null };
  return { kind: id.slice(0, colon) as OwnedAccountKind, ownerId: id.slice(colon + 1) };
}

/** Creates the accounts that do not exist yet; safe to repeat and to race. */
export async function ensureAccounts(db: Db, ids: readonly AccountId[]): Promise<void> {
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += 10_000) {
    const batch = unique.slice(i, i + 10_000);
    await db
      .insertInto("ledger_accounts")
      .columns(["id", "kind", "owner_id"])
      .expression(
        sql`select id, split_part(id, ':', 1), nullif(split_part(id, ':', 2), '')
          from unnest(${packedColumn(batch, "text")}) as id`,
      )
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
  }
}

/**
 * Locks the given accounts until the transaction ends (in id order, so two lockers cannot deadlock). Use it
 * before checking a balance that must not go negative, such as a customer's credit before escrow.
 */
export async function lockAccounts(trx: Db, ids: readonly AccountId[]): Promise<void> {
  const sorted = [...new Set(ids)].sort();
  await ensureAccounts(trx, sorted);
  await trx
    .selectFrom("ledger_accounts")
    .select("id")
    .where("id", "in", sorted)
    .orderBy("id")
    .forUpdate()
    .execute();
}
