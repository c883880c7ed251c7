import type { ChallengeOutcome, ChallengeTrigger } from "@ignis/protocol";
import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** Proof-of-GPU tables (migration 0006): every challenge with its timings, and admin reviews of quarantines. */
export interface ProofTables {
  proof_challenges: {
    /** The challenge id on the wire (32 hex characters). */
    id: string;
    device_id: string;
    profile: string;
    gpu_count: number;
    n: number;
    inner_dim: number;
    batch: number;
    reveal_rows: number;
    expected_ms: number;
    deadline_ms: number;
    rtt_ms: number;
    trigger: ChallengeTrigger;
    /** The replica that held the session and so issued and judged the challenge. */
    replica: string;
    issued_at: Timestamp;
    commit_at: Timestamp | null;
    reveal_requested_at: Timestamp | null;
    reveal_at: Timestamp | null;
    decided_at: Timestamp | null;
    outcome: ColumnType<ChallengeOutcome, ChallengeOutcome | undefined, ChallengeOutcome>;
    reason: string | null;
    /** Which row or field failed; for admins, never sent to the worker or shown publicly. */
    detail: string | null;
    commit_latency_ms: number | null;
    rows_checked: number | null;
    verify_cpu_ms: number | null;
    /** The challenge carried the memory phase (the worker announced `proof-vram`; migration 0027). */
    memory_phase: ColumnType<boolean, boolean | undefined, boolean>;
    /** The group round the challenge was part of (0025): its caller's and every member's share one id. */
    group_round: ColumnType<string | null, string | null | undefined, string | null>;
    /**
     * A pass in a round that left out a device of a round this device had missed (0028, round-coverage.ts): it
     * clears nothing.
     */
    round_incomplete: ColumnType<boolean, boolean | undefined, boolean>;
  };
  proof_reviews: {
    device_id: string;
    /** Challenges decided before this instant no longer count towards the device's failure streak. */
    reviewed_at: Generated<Date>;
    reviewed_by: string;
    note: string | null;
  };
  /** When the devices of an owner (`owner:<id>`) or an address (`address:<ip>`) were last grouped (0012). */
  proof_group_slots: {
    key: string;
    last_at: Timestamp;
  };
}
