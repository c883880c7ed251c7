import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type BigIntColumn = ColumnType<string, string | bigint | number, string | bigint | number>;

/** Where each closed epoch's root goes on chain (an outbox the root publisher drains). */
export interface ChainTables {
  /**
   * One row per (epoch, contract), written in the epoch's close transaction, so a root is never lost between the
   * close and its publication. Owned by chain/root-outbox.ts.
   */
  reward_root_publications: {
    epoch: BigIntColumn;
    /** The RewardRoots contract's address, lower case. */
    contract: string;
    root: string;
    /** `pending` until the root is on chain (`published`); `conflict` when the contract holds another root. */
    status: "pending" | "published" | "conflict";
    attempts: Generated<number>;
    next_attempt_at: Timestamp;
    last_error: string | null;
    tx_hash: string | null;
    block_number: BigIntColumn | null;
    created_at: Generated<Date>;
    published_at: Timestamp | null;
  };
}
