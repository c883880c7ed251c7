import { z } from "zod";
import { DeviceId, MicroUnits, Timestamp, UserId } from "./common.js";
import { ImageReference } from "./job-sandbox.js";

/** A cluster identifier: random, unguessable. */
export const ClusterId = z.string().regex(/^cls_[a-z0-9]{26}$/);
/** One rank's job (an assignment of a device to a cluster rank). */
export const JobId = z.string().regex(/^job_[a-z0-9]{26}$/);

/** Lifecycle of a cluster. */
export const ClusterStatus = z.enum(["pending", "running", "completed", "failed", "cancelled"]);
/** A cluster's lifecycle state. */
export type ClusterStatus = z.infer<typeof ClusterStatus>;

/** Lifecycle of one rank's job on one device. */
export const JobState = z.enum(["assigned", "starting", "running", "exited", "failed", "stopped", "lost"]);
/** A job's lifecycle state; `exited` carries an exit code, `lost` means the device dropped. */
export type JobState = z.infer<typeof JobState>;

/** Fixed bounds of a job spec that do not depend on server configuration. */
export const JOB_LIMITS = Object.freeze({
  commandChars: 4096,
  args: 256,
  argChars: 4096,
  envEntries: 128,
  envValueChars: 32 * 1024,
  /** The JSON of the spec without its archive. */
  specBytes: 64 * 1024,
});

/** A job spec as clients send it: what runs in the job's container on every rank. */
export const JobSpec = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).optional(),
  /** Variables for the job: names `[A-Z_][A-Z0-9_]*`, none reserved (RENDEZVOUS_VARIABLES, IGNIS_*), one line each. */
  env: z.record(z.string(), z.string()).optional(),
  /** The container image; without one the job runs in the supplier's default job image. */
  image: ImageReference.optional(),
  /** A working directory as a base64 tar.gz, unpacked into the job's scratch directory. */
  archive: z.string().optional(),
});
/** A job spec. */
export type JobSpec = z.infer<typeof JobSpec>;

/**
 * A job spec as the API receives it. The shape is loose on purpose: the market checks every field and answers
 * a specific code (`invalid_job_args`, `invalid_image`, `invalid_env_name`, `job_privileges_refused`, ...)
 * rather than a generic validation failure. The accepted shape is `JobSpec`.
 */
export const JobSpecInput = z
  .looseObject({
    command: z.string().min(1),
    args: z.unknown().optional(),
    env: z.unknown().optional(),
    image: z.unknown().optional(),
    archive: z.string().optional(),
  })
  .describe(
    "command (string), args (array of strings), env (object of NAME: value strings), image (an image reference), archive (base64 tar.gz)",
  );
/** A job spec as received, before the market's checks. */
export type JobSpecInput = z.infer<typeof JobSpecInput>;

/**
 * A price or amount in integer micro-units, as a decimal string or a safe integer. The shape is loose on purpose:
 * the server checks the value and answers `invalid_price` / `invalid_amount` rather than a generic failure.
 */
export const MicroUnitsInput = z.union([z.string().max(40), z.number()]);

/** Body of `POST /v1/clusters`. */
export const CreateClusterBody = z.strictObject({
  gpuModel: z.string().min(1).max(100),
  count: z.number().int(),
  hours: z.number().int(),
  job: JobSpecInput,
  /** Most the customer pays per device-hour, in micro-units. */
  maxPricePerHour: MicroUnitsInput.optional(),
  region: z.string().min(1).max(64).optional(),
  /** Hire only devices located in these countries (ISO 3166-1 alpha-2), as the explorer locates them. */
  countries: z.array(z.string().max(8)).max(250).optional(),
  /** Never hire devices located in these countries. */
  excludeCountries: z.array(z.string().max(8)).max(250).optional(),
  /**
   * Hire only devices at this connectivity tier or better (connectivity-tiers.ts): 1-4 or a tier's name. The
   * shape is loose on purpose: the server checks the value and answers `invalid_tier`.
   */
  minTier: z.union([z.number(), z.string().max(20)]).optional(),
  /**
   * Hire only devices whose claimed GPU memory is proven by a passed memory check (`memory.proven` on the
   * explorer); devices whose worker has no memory phase are then never hired.
   */
  requireProvenMemory: z.boolean().optional(),
  /**
   * Also hire devices whose worker runs jobs without a sandbox (`--unsafe-subprocess-jobs`, developer machines).
   * Without it, only devices that run every job in a container are hired.
   */
  allowUnsandboxed: z.boolean().optional(),
});
/** Body of `POST /v1/clusters`. */
export type CreateClusterBody = z.infer<typeof CreateClusterBody>;

/** One rank of a cluster as its customer sees it: the device, its price, its job and its metered use. */
export const ClusterDeviceView = z.object({
  jobId: JobId,
  rank: z.number().int(),
  deviceId: DeviceId,
  gpuModel: z.string(),
  pricePerHour: MicroUnits,
  state: JobState,
  exitCode: z.number().int().nullable(),
  error: z.string().nullable(),
  startedAt: Timestamp.nullable(),
  endedAt: Timestamp.nullable(),
  meteredMinutes: z.number().int(),
  charged: MicroUnits,
  /** The job this one replaced after its device dropped. */
  replaces: JobId.nullable(),
  /**
   * Set on a lost job whose rank found no free device: the rank waits for one until then, and its unused time
   * is refunded if none comes. Absent from servers older than this field.
   */
  awaitingReplacementUntil: Timestamp.nullable().optional(),
});
/** One rank of a cluster. */
export type ClusterDeviceView = z.infer<typeof ClusterDeviceView>;

/** A cluster as its customer (or an admin) sees it. Env values are never echoed: they may be secrets. */
export const ClusterView = z.object({
  id: ClusterId,
  status: ClusterStatus,
  gpuModel: z.string(),
  count: z.number().int(),
  hours: z.number().int(),
  region: z.string().nullable(),
  /** The countries the customer asked for, and those excluded (null: no filter). */
  countries: z.array(z.string()).nullable(),
  excludeCountries: z.array(z.string()).nullable(),
  /** The least connectivity tier the customer asked for (1: any device). */
  minTier: z.int().min(1).max(4),
  /** Whether only devices with proven memory could be hired (for it and for any replacement rank). */
  requireProvenMemory: z.boolean(),
  maxPricePerHour: MicroUnits.nullable(),
  /** The per-device hourly rate the escrow was sized for (the highest ask among the chosen devices). */
  holdPricePerHour: MicroUnits,
  billingMinuteSeconds: z.number(),
  job: z.object({
    command: z.string(),
    args: z.array(z.string()),
    envNames: z.array(z.string()),
    image: z.string().nullable(),
    archiveBytes: z.number().int(),
  }),
  /** Whether unsandboxed devices could be hired for it. */
  allowUnsandboxed: z.boolean(),
  escrow: z.object({ held: MicroUnits, charged: MicroUnits, refunded: MicroUnits, remaining: MicroUnits }),
  devices: z.array(ClusterDeviceView),
  createdAt: Timestamp,
  endsAt: Timestamp,
  endedAt: Timestamp.nullable(),
  endReason: z.string().nullable(),
});
/** A cluster view. */
export type ClusterView = z.infer<typeof ClusterView>;

/** A page of the caller's clusters, newest first. */
export const ClusterList = z.object({ items: z.array(ClusterView), nextCursor: z.string().nullable() });

/** One chunk of a job's output. */
export const ClusterLogLine = z.object({
  seq: z.number().int(),
  jobId: JobId,
  rank: z.number().int(),
  stream: z.enum(["stdout", "stderr", "system"]),
  data: z.string(),
  at: Timestamp,
});

/** A page of a cluster's logs; pass `nextCursor` back as `after` to follow. */
export const ClusterLogs = z.object({
  items: z.array(ClusterLogLine),
  nextCursor: z.string().nullable(),
});

/** Body of `POST /v1/admin/credits`. */
export const GrantCreditsBody = z.strictObject({
  userId: UserId,
  amount: MicroUnitsInput,
  /** An idempotency key: the same reference grants once. */
  reference: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/)
    .optional(),
  note: z.string().max(200).optional(),
  /** Which of the user's accounts: the customer's balance (the default) or a supplier's earnings (for stakes). */
  account: z.enum(["customer_balance", "supplier_earnings"]).optional(),
});

/** Response of a credit grant: the customer's new balance. */
export const CreditGrant = z.object({
  userId: UserId,
  /** Absent from servers older than staking, which only credited customers. */
  account: z.enum(["customer_balance", "supplier_earnings"]).optional(),
  balance: MicroUnits,
  amount: MicroUnits,
  reference: z.string(),
  unit: z.literal("micro"),
});

/** A customer's credit: what is spendable and what sits in escrow for running clusters. */
export const CreditBalance = z.object({
  userId: UserId,
  balance: MicroUnits,
  held: MicroUnits,
  unit: z.literal("micro"),
});

/** Body of `PUT /v1/devices/{deviceId}/price`: null goes back to the profile's default. */
export const SetDevicePriceBody = z.strictObject({ minPricePerHour: MicroUnitsInput.nullable() });

/** A device's price as its owner sees it. */
export const DevicePrice = z.object({
  deviceId: DeviceId,
  minPricePerHour: MicroUnits.nullable(),
  defaultPricePerHour: MicroUnits,
  effectivePricePerHour: MicroUnits,
});

/** What the market offers for one GPU model, public. */
export const MarketOffer = z.object({
  gpuModel: z.string(),
  available: z.number().int(),
  lowestPricePerHour: MicroUnits.nullable(),
  defaultPricePerHour: MicroUnits.nullable(),
});

/** `GET /v1/market/offers`. */
export const MarketOffers = z.object({ items: z.array(MarketOffer) });
