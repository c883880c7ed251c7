import type { ColumnType, Generated } from "kysely";

type BigIntColumn = ColumnType<string, string | bigint | number, string | bigint | number>;
type Json<T> = ColumnType<T, string, string>;

/** Double-entry ledger tables: accounts, transactions and their postings (append-only). */
export interface LedgerTables {
  ledger_accounts: {
    /** `kind` for system accounts, `kind:ownerId` for owned ones. */
    id: string;
    kind: string;
    owner_id: string | null;
    created_at: Generated<Date>;
  };
  ledger_transactions: {
    id: string;
    /** Insertion order, for listing. */
    seq: Generated<string>;
    kind: string;
    /** Idempotency reference, unique per transaction. */
    reference: string;
    details: Json<Record<string, unknown>>;
    created_at: Generated<Date>;
  };
  ledger_postings: {
    transaction_id: string;
    account_id: string;
    /** Micro-units; the postings of one transaction sum to zero. */
    amount: BigIntColumn;
  };
}
