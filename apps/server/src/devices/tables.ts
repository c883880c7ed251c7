import type { DeviceStatus, HeartbeatLoad, Verification } from "@ignis/protocol";
import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

/** Device status as the state machine defines it (devices/status.ts). */
export type { DeviceStatus, Verification };

/** Device tables: devices, their keys, enrollment codes and fleet key migrations. */
export interface DeviceTables {
  devices: {
    id: string;
    owner_id: string;
    label: string | null;
    label_public: Generated<boolean>;
    status: ColumnType<DeviceStatus, DeviceStatus | undefined, DeviceStatus>;
    verification: ColumnType<Verification, Verification | undefined, Verification>;
    profile: string;
    gpu_vendor: string;
    gpu_model: string;
    gpu_count: number;
    vram_gb: number;
    region: Generated<string>;
    hardware: Json<Record<string, unknown>>;
    hardware_changed_at: Timestamp | null;
    /** Integer micro-units per GPU-hour, as a decimal string (bigint). */
    min_price_per_hour: ColumnType<string | null, string | bigint | null, string | bigint | null>;
    created_at: Generated<Date>;
    last_seen_at: Timestamp | null;
    verified_at: Timestamp | null;
    /** The last pass that left the device verified (setVerification); uptime rewards need a recent one. */
    proven_at: Timestamp | null;
    quarantined_at: Timestamp | null;
    revoked_at: Timestamp | null;
    /** Load and hardware state of the last heartbeat, written with the batched uptime flush. */
    last_heartbeat: ColumnType<HeartbeatLoad | null, string | null | undefined, string | null>;
    /** Country (ISO alpha-2) that the latest session's public address locates the device in; null: unknown. */
    geo_country: ColumnType<string | null, string | null | undefined, string | null>;
    /** Country the owner declares (ISO alpha-2), shown only where the address does not locate the device. */
    declared_country: ColumnType<string | null, string | null | undefined, string | null>;
    /** Peer address of the latest worker session, for cluster rendezvous only; never shown to anyone. */
    session_address: ColumnType<string | null, string | null | undefined, string | null>;
    /** When two live sessions answered with this device's key (status `conflict`); null otherwise. */
    conflict_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
    /** The peer addresses of both sessions of the conflict, for the owner's view. */
    conflict_peers: ColumnType<string[] | null, string | null | undefined, string | null>;
    /** A key rotation asked for by the owner (or owed after a resolved conflict), until the next rotation. */
    rotation_requested_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
    /** The worker release the device's latest session announced (null: a v1 worker, which announces none). */
    worker_version: ColumnType<string | null, string | null | undefined, string | null>;
    /** Since when the device's worker is older than IGNIS_MIN_WORKER_VERSION; null when it is not. */
    outdated_since: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
    /** When an outdated worker stops earning (outdated_since + IGNIS_OUTDATED_GRACE_SECONDS). */
    outdated_earning_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  };
  device_keys: {
    id: string;
    device_id: string;
    /** Raw 32-byte Ed25519 public key, base64url. */
    public_key: string;
    state: "active" | "retiring" | "retired";
    created_at: Generated<Date>;
    retire_at: Timestamp | null;
    retired_at: Timestamp | null;
  };
  enrollment_codes: {
    code_hash: string;
    owner_id: string;
    expires_at: Timestamp;
    used_at: Timestamp | null;
    device_id: string | null;
    created_at: Generated<Date>;
  };
  key_migrations: {
    id: string;
    started_at: Generated<Date>;
    rotate_by: Timestamp;
    created_by: string;
    note: string | null;
  };
}
