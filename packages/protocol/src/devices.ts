import { z } from "zod";
import { DeviceId, Timestamp } from "./common.js";
import { DeviceLinkView } from "./connectivity-tiers.js";
import { OwnerDeviceMemory } from "./device-memory.js";
import { CoarseRegion, DeviceLocation } from "./explorer.js";
import { SandboxReport } from "./job-sandbox.js";
import { MeshReport } from "./mesh.js";
import { Eligibility } from "./stakes.js";
import { OwnerVerificationEvent } from "./verification-history.js";

/**
 * Device status: pending (enrolled, never connected) → online ⇄ offline, plus hired, quarantined, revoked, and
 * conflict (two machines hold its key; both are refused until the owner resolves it).
 */
export const DeviceStatus = z.enum([
  "pending",
  "online",
  "offline",
  "hired",
  "quarantined",
  "revoked",
  "conflict",
]);
/** One device status. */
export type DeviceStatus = z.infer<typeof DeviceStatus>;

/** Proof-of-GPU verification state; a device earns and can be hired only when `verified`. */
export const Verification = z.enum(["unverified", "verified", "failed"]);
/** One verification state. */
export type Verification = z.infer<typeof Verification>;

/** A raw 32-byte Ed25519 public key, base64url without padding (43 characters). */
export const Ed25519PublicKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, "a raw Ed25519 public key, base64url");
/** A 64-byte Ed25519 signature, base64url without padding (86 characters). */
export const Ed25519Signature = z.string().regex(/^[A-Za-z0-9_-]{86}$/, "an Ed25519 signature, base64url");

/** A device key's public identifier. */
export const DeviceKeyId = z.string().regex(/^dk_[a-z0-9]{26}$/);

const shortText = (max: number) =>
  z
    .string()
    .max(max)
    // No control characters: these strings end up in logs, tables and terminals.
    .regex(/^[^\p{Cc}]*$/u, "no control characters");

/** The GPUs a device claims; `vramGb` is per GPU. CPU-only machines claim vendor `cpu` (the CPU is the device). */
export const GpuClaim = z.strictObject({
  vendor: z.enum(["nvidia", "amd", "apple", "intel", "cpu"]),
  model: shortText(80).min(1),
  count: z.int().min(0).max(64),
  vramGb: z.int().min(0).max(4096),
  driver: shortText(80).nullable(),
});
/** A GPU claim. */
export type GpuClaim = z.infer<typeof GpuClaim>;

/** What a worker reports about its machine at enrollment and in metadata updates (strict: nothing else). */
export const HardwareClaim = z.strictObject({
  /** The hardware profile (hardware-profiles.ts) the device matches: detected, or a simulated one (`sim-a100`). */
  profile: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/),
  gpu: GpuClaim,
  cpu: z.strictObject({ model: shortText(120).min(1), cores: z.int().min(1).max(4096) }),
  ramGb: z.int().min(0).max(65_536),
  diskGb: z.int().min(0).max(10_000_000),
  os: z.strictObject({
    platform: shortText(40).min(1),
    release: shortText(80),
    arch: shortText(20).min(1),
    appleSilicon: z.boolean(),
  }),
  /** A continent-level region (never a precise location). */
  region: CoarseRegion,
  /**
   * The job sandbox of the device (engine, version, OCI runtime), or why it has none. Devices report it in a
   * metadata update when their worker starts; the market hires only devices whose jobs run in a container.
   */
  sandbox: SandboxReport.optional(),
  /** Whether the worker can join a cluster's private overlay (Nebula), reported with the sandbox. */
  mesh: MeshReport.optional(),
});
/** A hardware claim. */
export type HardwareClaim = z.infer<typeof HardwareClaim>;

/** Body of `POST /v1/enrollment-codes`: nothing to say; the code belongs to the caller. */
export const CreateEnrollmentCodeBody = z.strictObject({}).nullish();

/** Response of `POST /v1/enrollment-codes`: the code is shown once and stored hashed. */
export const EnrollmentCodeView = z.object({ code: z.string(), expiresAt: Timestamp });

/** A single-use enrollment code as typed by a person: `IGN-` and base32 groups. */
export const EnrollmentCode = z.string().trim().min(8).max(64);

/** Body of `POST /v1/enrollments`: a code, the device's public key, its claim and a signature over all three. */
export const EnrollBody = z.strictObject({
  code: EnrollmentCode,
  publicKey: Ed25519PublicKey,
  hardware: HardwareClaim,
  signature: Ed25519Signature,
});
/** An enrollment request. */
export type EnrollBody = z.infer<typeof EnrollBody>;

/** Response of an enrollment: the new device's id, its key's id and where to open the session. */
export const EnrollResponse = z.object({
  deviceId: DeviceId,
  keyId: DeviceKeyId,
  sessionPath: z.string(),
});
/** An enrollment response. */
export type EnrollResponse = z.infer<typeof EnrollResponse>;

/** A device key as its owner sees it (the public key is not secret). */
export const DeviceKeyView = z.object({
  id: DeviceKeyId,
  publicKey: Ed25519PublicKey,
  state: z.enum(["active", "retiring", "retired"]),
  createdAt: Timestamp,
  retireAt: Timestamp.nullable(),
});

/** The last heartbeat's load and hardware state, as stored at the latest uptime flush. */
export const HeartbeatLoad = z.strictObject({
  cpuPercent: z.number().min(0).max(100),
  memUsedGb: z.number().min(0).max(65_536),
  gpus: z
    .array(
      z.strictObject({
        utilPercent: z.number().min(0).max(100),
        memUsedGb: z.number().min(0).max(4096),
        temperatureC: z.number().min(-50).max(200).nullable(),
      }),
    )
    .max(64),
  /** True while the device runs a job. */
  busy: z.boolean(),
});
/** Load and hardware state carried by a heartbeat. */
export type HeartbeatLoad = z.infer<typeof HeartbeatLoad>;

/** The full device record, for its owner and admins (never public: it names the owner). */
export const DeviceView = z.object({
  id: DeviceId,
  ownerId: z.string(),
  label: z.string().nullable(),
  status: DeviceStatus,
  verification: Verification,
  profile: z.string(),
  gpu: z.object({ vendor: z.string(), model: z.string(), count: z.int(), vramGb: z.int() }),
  hardware: z.record(z.string(), z.unknown()),
  region: z.string(),
  /** The coarse location the explorer shows, and the country the owner declared (null: none). */
  location: DeviceLocation,
  declaredCountry: z.string().nullable(),
  connected: z.boolean(),
  load: HeartbeatLoad.nullable(),
  keys: z.array(DeviceKeyView),
  createdAt: Timestamp,
  lastSeenAt: Timestamp.nullable(),
  hardwareChangedAt: Timestamp.nullable(),
  verifiedAt: Timestamp.nullable(),
  quarantinedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
  /** Set while two machines hold this device's key: when it was seen and the peer addresses of both sessions. */
  conflict: z.object({ at: Timestamp, peers: z.array(z.string()) }).nullable(),
  /** The release the device's worker announced in its latest session; null for a v1 worker (it announces none). */
  workerVersion: z.string().nullable(),
  /**
   * Set while the worker is older than the operator's minimum release: it keeps heartbeating and earning until
   * `earningUntil`, then stays connected without earning until it is updated with `updateCommand`.
   */
  outdated: z
    .object({ since: Timestamp, earningUntil: Timestamp, earning: z.boolean(), updateCommand: z.string() })
    .nullable(),
  /**
   * The latest refused session openers of this device (single-device reads only): when, and why. The worker is
   * told only `handshake_failed`; the owner learns the reason (revoked device, unknown key, bad signature, ...).
   */
  refusedSessions: z.array(z.object({ at: Timestamp, reason: z.string() })).optional(),
  /**
   * The device's link to the control plane as the server last measured it (single-device reads only; null: never
   * measured). The explorer shows the tier alone.
   */
  link: DeviceLinkView.nullable().optional(),
  /**
   * The latest decided proof-of-GPU checks, newest first (single-device reads only), each failure with its code
   * and, for the owner alone, what was measured against what was expected and what to do.
   */
  verificationHistory: z.array(OwnerVerificationEvent).optional(),
  /** Whether the device may be hired and may earn now, and the codes of why not (GET of one device). */
  eligibility: Eligibility.optional(),
  /** Whether the claimed GPU memory is proven, and whether the worker can be asked (GET of one device). */
  memory: OwnerDeviceMemory.optional(),
});
/** The full device record. */
export type DeviceView = z.infer<typeof DeviceView>;

/**
 * Body of `PATCH /v1/devices/{deviceId}`: the label and the country the owner declares (ISO 3166-1 alpha-2; null
 * withdraws it), at least one of them. The declared country is shown only where the session's address does not
 * locate the device.
 */
export const UpdateDeviceBody = z
  .strictObject({
    label: shortText(64).trim().min(1).nullable().optional(),
    country: z.string().max(8).nullable().optional(),
  })
  .refine((b) => b.label !== undefined || b.country !== undefined, {
    message: "give a label or a country",
  });

/**
 * Body of `POST /v1/devices/{deviceId}/resolve-conflict`: `keep` (the owner stopped the other machine; the device
 * returns and must rotate its key at its next session) or `revoke` (its key is lost; enroll the machine again).
 */
export const ResolveConflictBody = z.strictObject({ action: z.enum(["keep", "revoke"]) });
/** A parsed `ResolveConflictBody`. */
export type ResolveConflictBody = z.infer<typeof ResolveConflictBody>;

/** Answer of `POST /v1/devices/{deviceId}/rotate-key`: the request is stored; `delivered` if a session got it now. */
export const KeyRotationRequestView = z.object({
  deviceId: DeviceId,
  requestedAt: Timestamp,
  delivered: z.boolean(),
});
/** A parsed `KeyRotationRequestView`. */
export type KeyRotationRequestView = z.infer<typeof KeyRotationRequestView>;

/** Body of `POST /v1/admin/key-migrations`: every device must rotate its key by `rotateBy`. */
export const CreateKeyMigrationBody = z.strictObject({
  rotateBy: z.iso.datetime({ offset: true }),
  note: shortText(200).optional(),
});

/** A fleet key migration as admins see it. */
export const KeyMigrationView = z.object({
  id: z.string(),
  startedAt: Timestamp,
  rotateBy: Timestamp,
  note: z.string().nullable(),
  /** Devices connected (to this replica) that were asked to rotate at once. */
  devicesNotified: z.int().optional(),
  /** Devices whose newest key predates the migration. */
  devicesPending: z.int().optional(),
});
