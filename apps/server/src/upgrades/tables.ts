import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** Signed worker releases and their staged rollouts (migration 0019); upgrades/ is their one writer. */
export interface UpgradeTables {
  worker_releases: {
    version: string;
    /** SHA-256 of the package, lowercase hex. */
    sha256: string;
    /** Ed25519 signature (base64url) of `releaseSigningText(version, sha256)` by the release key. */
    signature: string;
    size: number;
    /** The package (a tarball), served to devices over their credentials. */
    package: Buffer;
    notes: string | null;
    created_by: string;
    created_at: Generated<Date>;
  };
  worker_rollouts: {
    id: string;
    version: string;
    /** Share of devices offered the release, 0-100 (selected by a hash of the device id). */
    percent: number;
    /** Pause once more than this share (basis points) of the offered devices failed to come back. */
    failure_threshold_bps: number;
    /** How long an offered device has to come back on the new release before it counts as failed. */
    comeback_seconds: number;
    status: "running" | "paused" | "done";
    paused_reason: string | null;
    created_by: string;
    created_at: Generated<Date>;
    updated_at: Timestamp;
  };
  worker_rollout_devices: {
    rollout_id: string;
    device_id: string;
    from_version: string | null;
    /** offered → updated (came back on the release) | failed (did not, within the bound). */
    state: "offered" | "updated" | "failed";
    offered_at: Timestamp;
    settled_at: Timestamp | null;
  };
}
