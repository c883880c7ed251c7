import type { ClusterStatus, JobState } from "@ignis/protocol";
import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;
type BigIntColumn = ColumnType<string, string | bigint, string | bigint>;
type BigIntDefault = ColumnType<string, string | bigint | undefined, string | bigint>;

/** The job spec as stored with its cluster; the archive lives in its own column. */
export interface StoredJobSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  image: string | null;
  /** The customer asked that devices without a sandbox (`--unsafe-subprocess-jobs`) may be hired too. */
  allowUnsandboxed?: boolean;
}

/** Marketplace tables: clusters, their per-rank jobs, metered minutes and job logs. */
export interface MarketTables {
  clusters: {
    id: string;
    customer_id: string;
    status: ClusterStatus;
    gpu_model: string;
    count: number;
    hours: number;
    region: string | null;
    /** Countries to hire in / never to hire in (comma-separated ISO alpha-2 codes); null: no filter. */
    countries: ColumnType<string | null, string | null | undefined, string | null>;
    exclude_countries: ColumnType<string | null, string | null | undefined, string | null>;
    /** The least connectivity tier a hired device must have (1: any). */
    min_tier: ColumnType<number, number | undefined, number>;
    /** Hire only devices whose claimed memory a passed memory check proved (migration 0027). */
    require_proven_memory: ColumnType<boolean, boolean | undefined, boolean>;
    /** Micro-units per GPU-hour, as the customer capped it. */
    max_price_per_hour: ColumnType<string | null, string | bigint | null, string | bigint | null>;
    /** Micro-units per device-hour the escrow was sized for (highest ask among the chosen devices). */
    hold_price_per_hour: BigIntColumn;
    job: Json<StoredJobSpec>;
    archive: string | null;
    archive_bytes: number;
    head_port: number;
    /** Length of one billing minute, fixed at creation so a config change never re-prices a rental. */
    billing_minute_ms: number;
    fee_bps: number;
    held: BigIntColumn;
    charged: BigIntDefault;
    fees: BigIntDefault;
    refunded: BigIntDefault;
    created_at: Generated<Date>;
    starts_at: Timestamp;
    ends_at: Timestamp;
    ended_at: Timestamp | null;
    end_reason: string | null;
    settled_at: Timestamp | null;
  };
  cluster_jobs: {
    id: string;
    cluster_id: string;
    rank: number;
    device_id: string;
    /** The device's owner when it was hired: the account settlement pays. */
    supplier_id: string;
    /** Micro-units per hour for this device (its per-GPU ask times its GPU count). */
    price_per_hour: BigIntColumn;
    state: JobState;
    /** True while the device is reserved for this job; a unique partial index allows one per device. */
    active: Generated<boolean>;
    exit_code: number | null;
    error: string | null;
    runner: string | null;
    replaces: string | null;
    /** A lost job whose rank waits for a free device until then (its unused time is not refunded yet). */
    replace_until: Timestamp | null;
    assigned_at: Generated<Date>;
    started_at: Timestamp | null;
    ended_at: Timestamp | null;
    settled_minutes: Generated<number>;
    settled_amount: BigIntDefault;
    settled_fee: BigIntDefault;
    log_bytes: Generated<number>;
  };
  cluster_minutes: {
    cluster_id: string;
    rank: number;
    /** Billing minute index since the cluster's `starts_at`. */
    minute: number;
    job_id: string;
    device_id: string;
  };
  cluster_logs: {
    id: Generated<string>;
    cluster_id: string;
    job_id: string;
    rank: number;
    seq: number;
    stream: "stdout" | "stderr" | "system";
    data: string;
    at: Generated<Date>;
  };
}
