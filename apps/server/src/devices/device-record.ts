import type { DeviceStatus, DeviceView, HeartbeatLoad, Verification } from "@ignis/protocol";
import type { Selectable } from "kysely";
import type { Db } from "../db/database.js";
import { deviceLocation } from "../explorer/device-location.js";
import type { DeviceTables } from "./tables.js";
import { WORKER_UPDATE_COMMAND } from "./worker-version.js";

type DeviceRow = Selectable<DeviceTables["devices"]>;
type KeyRow = Selectable<DeviceTables["device_keys"]>;

/** A device as the domain uses it. */
export interface Device {
  id: string;
  ownerId: string;
  label: string | null;
  status: DeviceStatus;
  verification: Verification;
  profile: string;
  gpu: { vendor: string; model: string; count: number; vramGb: number };
  hardware: Record<string, unknown>;
  region: string;
  /** Country the latest session's address locates it in, and the one its owner declares (ISO alpha-2). */
  geoCountry: string | null;
  declaredCountry: string | null;
  lastHeartbeat: HeartbeatLoad | null;
  createdAt: Date;
  lastSeenAt: Date | null;
  hardwareChangedAt: Date | null;
  verifiedAt: Date | null;
  /** The last pass that left it verified (uptime rewards need a recent one). */
  provenAt: Date | null;
  quarantinedAt: Date | null;
  revokedAt: Date | null;
  /** While in `conflict`: when it was seen and the peer addresses of both sessions. */
  conflict: { at: Date; peers: string[] } | null;
  /** The release its worker's latest session announced (null: a v1 worker). */
  workerVersion: string | null;
  /** Set while its worker is older than the operator's minimum release. */
  outdated: { since: Date; earningUntil: Date } | null;
}

function toDevice(r: DeviceRow): Device {
  return {
    id: r.id,
    ownerId: r.owner_id,
    label: r.label,
    status: r.status,
    verification: r.verification,
    profile: r.profile,
    gpu: { vendor: r.gpu_vendor, model: r.gpu_model, count: r.gpu_count, vramGb: r.vram_gb },
    hardware: r.hardware,
    region: r.region,
    geoCountry: r.geo_country,
    declaredCountry: r.declared_country,
    lastHeartbeat: r.last_heartbeat,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    hardwareChangedAt: r.hardware_changed_at,
    verifiedAt: r.verified_at,
    provenAt: r.proven_at,
    quarantinedAt: r.quarantined_at,
    revokedAt: r.revoked_at,
    conflict: r.conflict_at ? { at: r.conflict_at, peers: r.conflict_peers ?? [] } : null,
    workerVersion: r.worker_version,
    outdated:
      r.outdated_since && r.outdated_earning_until
        ? { since: r.outdated_since, earningUntil: r.outdated_earning_until }
        : null,
  };
}

/** Reads one device, or undefined when there is none with this id. */
export async function findDevice(db: Db, id: string): Promise<Device | undefined> {
  const row = await db.selectFrom("devices").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? toDevice(row) : undefined;
}

/** One page of an owner's devices, in id order after `cursor`. */
export async function listOwnedDevices(
  db: Db,
  ownerId: string,
  limit: number,
  cursor?: string,
): Promise<Device[]> {
  let query = db.selectFrom("devices").selectAll().where("owner_id", "=", ownerId);
  if (cursor) query = query.where("id", ">", cursor);
  const rows = await query.orderBy("id").limit(limit).execute();
  return rows.map(toDevice);
}

/** The keys of the given devices, newest first, keyed by device id. */
export async function keysOfDevices(db: Db, deviceIds: readonly string[]): Promise<Map<string, KeyRow[]>> {
  const out = new Map<string, KeyRow[]>();
  if (deviceIds.length === 0) return out;
  const rows = await db
    .selectFrom("device_keys")
    .selectAll()
    .where("device_id", "in", deviceIds)
    .orderBy("created_at", "desc")
    .execute();
  for (const row of rows) {
    const list = out.get(row.device_id) ?? [];
    list.push(row);
    out.set(row.device_id, list);
  }
  return out;
}

/** Sets what an owner may write: the label and the declared country. Returns the device after the change. */
export async function setOwnerFields(
  db: Db,
  deviceId: string,
  change: { label?: string | null; declaredCountry?: string | null },
): Promise<Device> {
  const row = await db
    .updateTable("devices")
    .set({
      ...(change.label !== undefined ? { label: change.label } : {}),
      ...(change.declaredCountry !== undefined ? { declared_country: change.declaredCountry } : {}),
    })
    .where("id", "=", deviceId)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toDevice(row);
}

/** Sets whether the explorer shows the device's label (the owner's explicit choice; explorer/label-visibility.ts). */
export async function setDeviceLabelVisibility(
  db: Db,
  deviceId: string,
  labelPublic: boolean,
): Promise<void> {
  await db.updateTable("devices").set({ label_public: labelPublic }).where("id", "=", deviceId).execute();
}

/** The full record for the owner or an admin; `connected` comes from the gateway. */
export function toDeviceView(device: Device, keys: readonly KeyRow[], connected: boolean): DeviceView {
  return {
    id: device.id,
    ownerId: device.ownerId,
    label: device.label,
    status: device.status,
    verification: device.verification,
    profile: device.profile,
    gpu: device.gpu,
    hardware: device.hardware,
    region: device.region,
    location: deviceLocation({
      geo_country: device.geoCountry,
      declared_country: device.declaredCountry,
      region: device.region,
    }),
    declaredCountry: device.declaredCountry,
    connected,
    load: device.lastHeartbeat,
    keys: keys.map((k) => ({
      id: k.id,
      publicKey: k.public_key,
      state: k.state,
      createdAt: k.created_at.toISOString(),
      retireAt: k.retire_at?.toISOString() ?? null,
    })),
    createdAt: device.createdAt.toISOString(),
    lastSeenAt: device.lastSeenAt?.toISOString() ?? null,
    hardwareChangedAt: device.hardwareChangedAt?.toISOString() ?? null,
    verifiedAt: device.verifiedAt?.toISOString() ?? null,
    quarantinedAt: device.quarantinedAt?.toISOString() ?? null,
    revokedAt: device.revokedAt?.toISOString() ?? null,
    conflict: device.conflict ? { at: device.conflict.at.toISOString(), peers: device.conflict.peers } : null,
    workerVersion: device.workerVersion,
    outdated: device.outdated
      ? {
          since: device.outdated.since.toISOString(),
          earningUntil: device.outdated.earningUntil.toISOString(),
          earning: device.outdated.earningUntil.getTime() > Date.now(),
          updateCommand: WORKER_UPDATE_COMMAND,
        }
      : null,
  };
}
