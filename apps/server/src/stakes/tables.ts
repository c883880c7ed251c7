import type { ColumnType } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type BigIntColumn = ColumnType<string, string | bigint, string | bigint>;
type Json<T> = ColumnType<T, string, string>;

/** Lifecycle of a stake: bonded (counts), unbonding (locked, slashable, not counted), released (paid back). */
export type StakeStatus = "bonded" | "unbonding" | "released";
/** Where an appeal stands: waiting for the re-proof, refunded after a pass, rejected after a fraud failure. */
export type AppealStatus = "pending" | "refunded" | "rejected";
/** What one stake gave to a slash. */
export interface SlashLeg {
  stakeId: string;
  amount: string;
}

/** Stake tables (migration 0023); the stakes module is their one writer. */
export interface StakeTables {
  stakes: {
    id: string;
    device_id: string;
    owner_id: string;
    /** Micro-units bonded at first. */
    amount: BigIntColumn;
    /** Micro-units held now: the balance of ledger account `stake:<id>`, written in the same transaction. */
    bonded: BigIntColumn;
    status: StakeStatus;
    created_at: Timestamp;
    unbond_requested_at: Timestamp | null;
    /** When an unbonding stake's money returns to its owner's earnings. */
    release_at: Timestamp | null;
    released_at: Timestamp | null;
  };
  slashes: {
    id: string;
    device_id: string;
    owner_id: string;
    challenge_id: string;
    reason: string;
    amount: BigIntColumn;
    legs: Json<SlashLeg[]>;
    transcript: Json<Record<string, unknown>>;
    transcript_hash: string;
    at: Timestamp;
    appeal_status: AppealStatus | null;
    appeal_reason: string | null;
    appealed_at: Timestamp | null;
    /** The re-proof that decided the appeal. */
    appeal_challenge_id: string | null;
    appeal_resolved_at: Timestamp | null;
  };
}
