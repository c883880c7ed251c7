import { z } from "zod";
import { Cursor, DeviceId, PageSize, Timestamp } from "./common.js";
import { ConnectivityTierSchema } from "./connectivity-tiers.js";
import { DeviceMemory } from "./device-memory.js";

// Public view types of the explorer. None of them has an owner field, an e-mail, a key id, an address or an
// internal numeric id: the server builds every public response by picking these fields, never by spreading a
// row, so a column added to a table cannot leak by accident.

/** A device's lifecycle state as the public sees it (revoked devices are not shown at all). */
export const PublicDeviceStatus = z.enum(["pending", "online", "offline", "hired", "quarantined"]);
/** A device's public lifecycle state. */
export type PublicDeviceStatus = z.infer<typeof PublicDeviceStatus>;

/** Proof-of-GPU verification state. */
export const PublicVerification = z.enum(["unverified", "verified", "failed"]);
/** Proof-of-GPU verification state. */
export type PublicVerification = z.infer<typeof PublicVerification>;

/** Continent-level regions: the finest location the explorer ever shows. */
export const CoarseRegion = z.enum([
  "north-america",
  "south-america",
  "europe",
  "asia-pacific",
  "middle-east",
  "africa",
  "oceania",
  "unknown",
]);
/** A continent-level region. */
export type CoarseRegion = z.infer<typeof CoarseRegion>;

/** An ISO 3166-1 alpha-2 country code (upper case). */
export const CountryCode = z.string().regex(/^[A-Z]{2}$/);

/**
 * Where a device is, as coarse as the public may know: a country and its continent-level region, never a city or
 * an address. `geoip`: from its session's public address (DB-IP's country database); `declared`: the owner's word,
 * used when the address does not locate; `unknown`: neither (the region may still be the continent the worker
 * reported).
 */
export const DeviceLocation = z.object({
  country: CountryCode.nullable(),
  region: CoarseRegion,
  source: z.enum(["geoip", "declared", "unknown"]),
});
/** A device's coarse location. */
export type DeviceLocation = z.infer<typeof DeviceLocation>;

/** A share between 0 and 1 (uptime, verified share). */
const Share = z.number().min(0).max(1);

/** One device as anyone may see it: hardware, state and uptime, with no owner identity of any kind. */
export const PublicDevice = z.object({
  id: DeviceId,
  status: PublicDeviceStatus,
  verification: PublicVerification,
  vendor: z.string(),
  gpu: z.object({ model: z.string(), count: z.number().int(), vramGb: z.number().int() }),
  /** Whether the claimed memory is proven by a passed memory check (device-memory.ts). */
  memory: DeviceMemory,
  location: DeviceLocation,
  /** The device's connectivity tier (connectivity-tiers.ts): 1 until the server has measured its link. */
  connectivity: z.object({ tier: ConnectivityTierSchema, name: z.string() }),
  /** The owner's label, present only when the owner marked it public. */
  label: z.string().nullable(),
  /** Share of the last 24 hours (or of the device's life, if shorter) with a heartbeat. */
  uptime24h: Share,
  /** The day the device enrolled (UTC), never the exact time. */
  enrolledOn: z.string(),
});
/** One device as anyone may see it. */
export type PublicDevice = z.infer<typeof PublicDevice>;

/**
 * Up-minute slots of one UTC day, for the 30-day chart. Every epoch has 60 slots of epochSeconds / 60 (a minute
 * with the default one-hour epoch), so the ratio of the two fields is the day's uptime.
 */
export const UptimeDay = z.object({
  day: z.string(),
  upMinutes: z.number().int(),
  possibleMinutes: z.number().int(),
});
/** Up-minutes of one UTC day. */
export type UptimeDay = z.infer<typeof UptimeDay>;

/** Up-minute slots of one epoch (out of 60), for the recent-activity chart. */
export const UptimeEpoch = z.object({
  epoch: z.number().int(),
  startsAt: Timestamp,
  upMinutes: z.number().int(),
  possibleMinutes: z.number().int(),
});
/** Up-minutes of one epoch. */
export type UptimeEpoch = z.infer<typeof UptimeEpoch>;

/**
 * One proof-of-GPU check: when it was decided (to the hour), its outcome and the stable code of a failure, nothing
 * else: the plain-words detail is for the owner only (verification-history.ts) and has no field here.
 */
export const VerificationEvent = z.object({
  at: Timestamp,
  /** pass, or fail for any other outcome (kept for older readers; `outcome` tells a timeout apart). */
  result: z.enum(["pass", "fail"]),
  outcome: z.enum(["pass", "fail", "timeout"]),
  /** Why it did not pass, e.g. `commit_late` or `vram_short`; null on a pass. */
  code: z.string().nullable(),
});
/** One proof-of-GPU check. */
export type VerificationEvent = z.infer<typeof VerificationEvent>;

/** The explorer's device page: the public device plus its uptime history and verification history. */
export const PublicDeviceDetail = PublicDevice.extend({
  /** Share over the last 7 UTC days (today so far included), bounded by the device's age. */
  uptime7d: Share,
  /** Share over the last 30 UTC days, the days of `uptimeDaily`. */
  uptime30d: Share,
  verifiedAt: Timestamp.nullable(),
  /** The last 30 UTC days, oldest first. */
  uptimeDaily: z.array(UptimeDay),
  /** The last 48 epochs, oldest first (those before the device enrolled have no possible minutes). */
  uptimeEpochs: z.array(UptimeEpoch),
  /** Newest first, at most 50 entries. */
  verificationHistory: z.array(VerificationEvent),
});
/** The explorer's device page. */
export type PublicDeviceDetail = z.infer<typeof PublicDeviceDetail>;

/** Query of `GET /v1/explorer/devices`. */
export const ExplorerDeviceQuery = z.object({
  /** A device id or a prefix of one (with or without `dev_`). */
  q: z.string().trim().max(64).optional(),
  status: PublicDeviceStatus.optional(),
  model: z.string().max(100).optional(),
  vendor: z.string().max(50).optional(),
  cursor: Cursor.optional(),
  limit: PageSize,
});
/** Query of `GET /v1/explorer/devices`. */
export type ExplorerDeviceQuery = z.infer<typeof ExplorerDeviceQuery>;

/** One page of `GET /v1/explorer/devices`. */
export const ExplorerDevicePage = z.object({
  items: z.array(PublicDevice),
  nextCursor: z.string().nullable(),
});
/** One page of public devices. */
export type ExplorerDevicePage = z.infer<typeof ExplorerDevicePage>;

/** Network totals of one epoch, for the overview chart. */
export const NetworkEpoch = z.object({
  epoch: z.number().int(),
  startsAt: Timestamp,
  /** Devices with at least one up-minute in the epoch. */
  activeDevices: z.number().int(),
  computeHours: z.number(),
});
/** Network totals of one epoch. */
export type NetworkEpoch = z.infer<typeof NetworkEpoch>;

/** One GPU model on the network. */
export const ModelShare = z.object({
  model: z.string(),
  vendor: z.string(),
  devices: z.number().int(),
  online: z.number().int(),
  gpus: z.number().int(),
});
/** One GPU model on the network. */
export type ModelShare = z.infer<typeof ModelShare>;

/** `GET /v1/explorer/stats`: network-wide aggregates, computed at most every few seconds. */
export const ExplorerStats = z.object({
  devicesOnline: z.number().int(),
  devicesTotal: z.number().int(),
  gpusTotal: z.number().int(),
  /** GPU count per model. */
  gpusByModel: z.record(z.string(), z.number().int()),
  /** GPU count per vendor. */
  gpusByVendor: z.record(z.string(), z.number().int()),
  /** GPU count per coarse region. */
  gpusByRegion: z.record(z.string(), z.number().int()),
  devicesByStatus: z.record(z.string(), z.number().int()),
  models: z.array(ModelShare),
  /** Share of shown devices whose GPU passed proof-of-GPU. */
  verifiedShare: Share,
  /** Sum of up_minutes / 60 over this UTC month's epochs (hours with the default one-hour epoch). */
  computeHoursThisMonth: z.number(),
  currentEpoch: z.number().int(),
  epochSeconds: z.number().int(),
  /** The newest epoch whose Merkle root was published, or null before the first. */
  lastPublishedRoot: z.object({ epoch: z.number().int(), root: z.string() }).nullable(),
  /** The last 48 epochs, oldest first. */
  recentEpochs: z.array(NetworkEpoch),
  generatedAt: Timestamp,
});
/** Network-wide aggregates. */
export type ExplorerStats = z.infer<typeof ExplorerStats>;

/**
 * One place on the network map: a country (null: devices whose country is unknown, grouped by the continent their
 * worker reported), its continent-level region, devices online there and GPUs there by model. Summed over all
 * entries, `devicesOnline` and the GPUs equal the stats route's `devicesOnline` and `gpusTotal`.
 */
export const MapRegion = z.object({
  country: CountryCode.nullable(),
  region: CoarseRegion,
  devicesOnline: z.number().int(),
  gpus: z.record(z.string(), z.number().int()),
});
/** One place on the network map. */
export type MapRegion = z.infer<typeof MapRegion>;

/** `GET /v1/explorer/map`: where the network's devices are, by country, with the data's attribution. */
export const ExplorerMap = z.object({
  regions: z.array(MapRegion),
  /** The GeoIP data's licence asks for this wherever its results are shown. */
  attribution: z.object({ text: z.string(), url: z.string(), licence: z.string() }),
  generatedAt: Timestamp,
});
/** The network map. */
export type ExplorerMap = z.infer<typeof ExplorerMap>;

/** Body of `PUT /v1/devices/{deviceId}/label-visibility`: whether the explorer may show the device's label. */
export const LabelVisibilityBody = z.strictObject({ public: z.boolean() });

/** Answer of the label-visibility route, to the device's owner. */
export const LabelVisibility = z.object({ deviceId: DeviceId, labelPublic: z.boolean() });
/** Whether a device's label is shown on the explorer. */
export type LabelVisibility = z.infer<typeof LabelVisibility>;

/** `GET /v1/web-config`: what the web app needs to sign users in, with the embedded or an external issuer. */
export const WebConfig = z.object({
  issuer: z.string(),
  clientId: z.string(),
  /** The API audience; sent as `audience` and `resource` where an issuer needs it to mint a JWT. */
  audience: z.string(),
  scopes: z.array(z.string()),
  embedded: z.boolean(),
  /** Path of the redirect URI under the web app's origin. */
  redirectPath: z.string(),
});
/** What the web app needs to sign users in. */
export type WebConfig = z.infer<typeof WebConfig>;
