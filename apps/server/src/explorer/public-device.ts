import {
  type DeviceStatus,
  LOWEST_TIER,
  type PublicDevice,
  type PublicDeviceStatus,
  parseTier,
  TIER_NAMES,
  TIER_VALID_MS,
} from "@ignis/protocol";
import { type RawBuilder, sql } from "kysely";
import { publicMemoryOf } from "../proof/memory-proof.js";
import { deviceLocation } from "./device-location.js";

/**
 * The only device columns the explorer ever reads. Owner, hardware details and timestamps that could fingerprint
 * a machine are not selected at all, so they cannot reach a response.
 */
export const PUBLIC_DEVICE_COLUMNS = [
  "id",
  "status",
  "verification",
  "gpu_vendor",
  "gpu_model",
  "gpu_count",
  "vram_gb",
  "region",
  "geo_country",
  "declared_country",
  "label",
  "label_public",
  "created_at",
  "verified_at",
] as const;

/** A device row as the explorer selects it. */
export interface PublicDeviceRow {
  id: string;
  status: string;
  verification: string;
  gpu_vendor: string;
  gpu_model: string;
  gpu_count: number;
  vram_gb: number;
  region: string;
  geo_country: string | null;
  declared_country: string | null;
  label: string | null;
  label_public: boolean;
  created_at: Date;
  verified_at: Date | null;
  /** The tier of the device's fresh link measurement (publicTier), null when it has none. */
  link_tier?: number | null;
  /** When the device last proved its memory (memoryProvenAt), null when it has not. */
  memory_proven_at?: Date | string | null;
}

/**
 * The tier of a device's link measurement if it is fresh at `nowMs`, selected beside the public columns: only the
 * tier, never the round trip or throughput, which could hint at where a machine is.
 */
export function publicTier(nowMs: number): RawBuilder<number | null> {
  return sql<number | null>`(select l.tier from device_links l
    where l.device_id = devices.id and l.measured_at >= ${new Date(nowMs - TIER_VALID_MS)})`;
}

/** Statuses the public never sees: a revoked device is gone from the explorer, as if it never existed. */
export const HIDDEN_STATUSES = ["revoked"] as const;

/**
 * The status the public sees: a device in `conflict` (its key is held by two machines) shows as `offline`, as it
 * serves no one, without announcing a compromised key to the world.
 */
export function publicStatus(status: string): PublicDeviceStatus {
  return (status === "conflict" ? "offline" : status) as PublicDeviceStatus;
}

/** Statuses stored for one public status (the explorer's status filter). */
export function storedStatuses(status: PublicDeviceStatus): DeviceStatus[] {
  return status === "offline" ? ["offline", "conflict"] : [status];
}

/** Builds the public view by picking fields one by one; the label appears only when its owner made it public. */
export function toPublicDevice(row: PublicDeviceRow, uptime24h: number): PublicDevice {
  return {
    id: row.id,
    status: publicStatus(row.status),
    verification: row.verification as PublicDevice["verification"],
    vendor: row.gpu_vendor,
    gpu: { model: row.gpu_model, count: row.gpu_count, vramGb: row.vram_gb },
    memory: publicMemoryOf({
      vramGb: row.vram_gb,
      gpuCount: row.gpu_count,
      verification: row.verification,
      memoryProvenAt: row.memory_proven_at ?? null,
    }),
    location: deviceLocation(row),
    connectivity: connectivityOf(row.link_tier),
    label: row.label_public === true && row.label ? row.label : null,
    uptime24h,
    enrolledOn: new Date(row.created_at).toISOString().slice(0, 10),
  };
}

function connectivityOf(raw: number | null | undefined): PublicDevice["connectivity"] {
  const tier = (raw === null || raw === undefined ? undefined : parseTier(Number(raw))) ?? LOWEST_TIER;
  return { tier, name: TIER_NAMES[tier] };
}
