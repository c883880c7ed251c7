import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type BigIntColumn = ColumnType<string, string | bigint | number, string | bigint | number>;
type Json<T> = ColumnType<T, string, string>;

/** Reward tables: seasons, closed epochs, per-device rewards, stored Merkle tree pages, maintenance windows. */
export interface RewardTables {
  reward_seasons: {
    id: string;
    name: string;
    starts_at: Timestamp;
    ends_at: Timestamp;
    /** Micro-units shared per epoch. */
    pool_per_epoch: BigIntColumn;
    /** Integer weight per hardware profile id. */
    weights: Json<Record<string, number>>;
    min_up_minutes: number;
    created_by: string | null;
    created_at: Generated<Date>;
  };
  /** One row per closed epoch, written last in the close transaction; append-only. */
  reward_epochs: {
    epoch: BigIntColumn;
    season_id: string;
    starts_at: Timestamp;
    ends_at: Timestamp;
    /** 0x-prefixed Keccak root; null when no device qualified. */
    root: string | null;
    total: BigIntColumn;
    devices: number;
    /** Σ weight × up-minutes over qualifying devices: the formula's denominator, kept for audits. */
    units: BigIntColumn;
    closed_at: Generated<Date>;
  };
  /** One row per qualifying device per epoch; append-only. */
  rewards: {
    epoch: BigIntColumn;
    device_id: string;
    owner_id: string;
    profile: string;
    weight: number;
    up_minutes: number;
    amount: BigIntColumn;
    /** Position of the device's leaf in the tree's node array (OpenZeppelin layout). */
    tree_index: number;
  };
  /** The tree's node array cut into subtree pages, so a proof reads a few pages and never rebuilds the tree. */
  reward_tree_pages: {
    epoch: BigIntColumn;
    page_root: number;
    nodes: Uint8Array;
  };
  maintenance_windows: {
    id: string;
    starts_at: Timestamp;
    ends_at: Timestamp;
    grace_minutes: number;
    lead_minutes: number;
    reason: string;
    created_by: string | null;
    created_at: Generated<Date>;
  };
}
