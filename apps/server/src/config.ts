import { parseArgs } from "node:util";
import { z } from "zod";

const booleanString = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1")
  .optional();

const EnvSchema = z.object({
  IGNIS_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  IGNIS_HOST: z.string().default("0.0.0.0"),
  IGNIS_DATA_DIR: z.string().min(1).default(".ignis"),
  IGNIS_PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  IGNIS_DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  IGNIS_OIDC_ISSUER: z.url().optional(),
  IGNIS_OIDC_AUDIENCE: z.string().min(1).optional(),
  IGNIS_OIDC_CLI_CLIENT_ID: z.string().min(1).default("ignis-cli"),
  IGNIS_OIDC_WEB_CLIENT_ID: z.string().min(1).default("ignis-web"),
  IGNIS_NATS_URL: z
    .string()
    .regex(/^nats:\/\//, "must be a nats:// URL")
    .optional(),
  IGNIS_REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// URL")
    .optional(),
  IGNIS_EPOCH_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3600),
  IGNIS_HEARTBEAT_SECONDS: z.coerce.number().min(0.05).max(3600).default(30),
  IGNIS_EPOCH_FINALIZATION_SECONDS: z.coerce.number().min(0).max(3600).optional(),
  IGNIS_CHALLENGE_MEAN_SECONDS: z.coerce
    .number()
    .min(1)
    .max(7 * 86_400)
    .default(4 * 3600),
  IGNIS_CHALLENGE_RETRY_SECONDS: z.coerce.number().min(0.05).max(86_400).default(120),
  IGNIS_CHALLENGE_ABSENCE_SECONDS: z.coerce
    .number()
    .min(1)
    .max(7 * 86_400)
    .optional(),
  IGNIS_PROOF_MAX_AGE_SECONDS: z.coerce
    .number()
    .min(1)
    .max(90 * 86_400)
    .optional(),
  IGNIS_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  IGNIS_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  IGNIS_ALERT_WEBHOOK_URL: z.url().optional(),
  IGNIS_ALERT_WEBHOOK_SECRET: z.string().min(16).optional(),
  IGNIS_ALERT_WEBHOOK_ALLOW_PRIVATE: booleanString,
  IGNIS_CORS_ORIGINS: z.string().optional(),
  IGNIS_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .default(256 * 1024),
  IGNIS_RATE_LIMITS: z.enum(["on", "off"]).default("on"),
  IGNIS_SECURITY_CONTAINMENT: z.enum(["on", "off"]).default("on"),
  IGNIS_TRUST_PROXY: z.string().optional(),
  IGNIS_REPLICA_ID: z.string().min(1).max(64).optional(),
  IGNIS_WEB_DIR: z.string().optional(),
  IGNIS_UPTIME_FLUSH_SECONDS: z.coerce.number().min(0.05).max(300).optional(),
  IGNIS_HANDSHAKES_PER_SECOND: z.coerce.number().int().min(1).max(1_000_000).default(2000),
  IGNIS_KEY_OVERLAP_SECONDS: z.coerce
    .number()
    .min(1)
    .max(30 * 86_400)
    .default(86_400),
  /** A device whose key is older than this is asked to rotate when its session opens; 0 (the default): never. */
  IGNIS_KEY_MAX_AGE_SECONDS: z.coerce
    .number()
    .min(0)
    .max(10 * 365 * 86_400)
    .default(0),
  /** Workers older than this release are `outdated`: told so, and paid only through the grace period. */
  IGNIS_MIN_WORKER_VERSION: z
    .string()
    .regex(/^\d{1,6}\.\d{1,6}\.\d{1,6}(-[0-9A-Za-z.-]{1,20})?$/, "expected MAJOR.MINOR.PATCH")
    .optional(),
  /** How long an outdated worker keeps earning after it was first seen outdated (default 7 days). */
  IGNIS_OUTDATED_GRACE_SECONDS: z.coerce
    .number()
    .min(0)
    .max(365 * 86_400)
    .default(7 * 86_400),
  /** How often staged rollouts expire offers and offer their release to live sessions. */
  IGNIS_ROLLOUT_TICK_SECONDS: z.coerce.number().min(0.05).max(3600).default(15),
  /** Largest worker release package an admin may upload. */
  IGNIS_WORKER_RELEASE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(32 * 1024 * 1024),
  IGNIS_BILLING_MINUTE_SECONDS: z.coerce.number().min(0.05).max(3600).optional(),
  IGNIS_NETWORK_FEE_BPS: z.coerce.number().int().min(0).max(10_000).default(1000),
  /** Micro-units a device must keep bonded per GPU to be hired or earn; 0 (the default) turns staking off. */
  IGNIS_STAKE_PER_GPU: z
    .string()
    .regex(/^\d{1,18}$/, "a non-negative integer number of micro-units")
    .default("0"),
  /** Share of the stake a fraud-class proof failure slashes, in basis points (default 10%). */
  IGNIS_SLASH_BPS: z.coerce.number().int().min(0).max(10_000).default(1000),
  /** How long an unbonding stake stays locked (and slashable) before it returns (default 7 days). */
  IGNIS_UNBOND_SECONDS: z.coerce
    .number()
    .min(0)
    .max(365 * 86_400)
    .default(7 * 86_400),
  /**
   * How long a newly verified device, and a newly bonded stake, wait before the device is hired or earns
   * (`pending_period`); 0 (the default) turns the wait off.
   */
  IGNIS_STAKE_PENDING_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(365 * 86_400)
    .default(0),
  IGNIS_CLUSTER_MAX_DEVICES: z.coerce.number().int().min(1).max(10_000).default(64),
  IGNIS_CLUSTER_MAX_HOURS: z.coerce.number().int().min(1).max(8760).default(720),
  IGNIS_JOB_ARCHIVE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(64 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  IGNIS_JOB_LOG_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(1024 * 1024 * 1024)
    .default(1024 * 1024),
  IGNIS_ACCESS_MAX_STREAMS: z.coerce.number().int().min(1).max(1000).default(16),
  IGNIS_ACCESS_IDLE_SECONDS: z.coerce.number().min(1).max(86_400).default(1800),
  /** Cluster overlays (Nebula): `auto` offers them when nebula and nebula-cert are installed. */
  IGNIS_MESH: z.enum(["auto", "on", "off"]).default("auto"),
  /** UDP port of the lighthouse and relay; 0 picks a free one at start (tests). */
  IGNIS_MESH_PORT: z.coerce.number().int().min(0).max(65535).default(4242),
  /** Host workers reach the lighthouse at; default: the host of the server URL each worker uses. */
  IGNIS_MESH_HOST: z.string().min(1).max(253).optional(),
  /** EVM JSON-RPC endpoint where reward roots are published (RewardRoots; see docs/rewards.md). */
  IGNIS_CHAIN_RPC: z
    .string()
    .regex(/^https?:\/\//, "must be an http:// or https:// URL")
    .optional(),
  /** File holding the publisher's private key: one line, 0x and 64 hex digits (read at start, never logged). */
  IGNIS_CHAIN_KEY_FILE: z.string().min(1).optional(),
  /** The deployed RewardRoots contract; set, each closed epoch's root is published there. */
  IGNIS_CHAIN_CONTRACT: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/, "must be a contract address: 0x and 40 hex digits")
    .optional(),
  /** First wait before a failed publication is retried (doubling up to 60 times that, at most an hour). */
  IGNIS_CHAIN_RETRY_SECONDS: z.coerce.number().min(0.05).max(3600).default(30),
});

/** Every environment variable the server reads (deploy files are checked against it for typos). */
export const CONFIG_KEYS: readonly string[] = Object.keys(EnvSchema.shape);

/** The validated, frozen configuration of one ignis-server process. */
export type Config = Readonly<{
  port: number;
  host: string;
  dataDir: string;
  publicUrl: string | undefined;
  databaseUrl: string | undefined;
  dbPoolSize: number;
  oidc: Readonly<{
    issuer: string | undefined;
    audience: string;
    cliClientId: string;
    webClientId: string;
    embedded: boolean;
  }>;
  natsUrl: string | undefined;
  redisUrl: string | undefined;
  epochSeconds: number;
  heartbeatSeconds: number;
  epochFinalizationSeconds: number;
  challengeMeanSeconds: number;
  /** Proof of GPU: wait before the one retry after a failed challenge (then quarantine). */
  challengeRetrySeconds: number;
  /**
   * Proof of GPU: how long a device of a missed group round may stay offline and still be required in the round
   * that clears the miss (round-coverage.ts); the mean re-check interval by default.
   */
  challengeAbsenceSeconds: number;
  /**
   * Uptime rewards: a device earns in an epoch only if a pass verified it at most this long before the epoch
   * began, or during it (rewards/epoch-shares.ts); 12 mean re-check intervals by default.
   */
  proofMaxAgeSeconds: number;
  logLevel: string;
  metricsPort: number | undefined;
  alertWebhook: Readonly<{ url: string | undefined; secret: string | undefined; allowPrivate: boolean }>;
  corsOrigins: readonly string[];
  bodyLimitBytes: number;
  rateLimits: boolean;
  /** Security monitor: contain automatically (on), or alert only (off, a dry run while tuning). */
  securityContainment: boolean;
  /** Proxies whose X-Forwarded-For is believed: `true`, a hop count, or addresses/CIDRs; false by default. */
  trustProxy: boolean | number | readonly string[];
  replicaId: string;
  webDir: string | undefined;
  /** Worker sessions: how often buffered up-minutes are written, how long a rotated-out key keeps working. */
  worker: Readonly<{
    uptimeFlushSeconds: number;
    keyOverlapSeconds: number;
    keyMaxAgeSeconds: number;
    /** Workers older than this release are outdated (undefined: none is). */
    minWorkerVersion: string | undefined;
    outdatedGraceSeconds: number;
    releaseMaxBytes: number;
    rolloutTickSeconds: number;
    /** Admission control: worker handshakes admitted per second, server-wide (gateway/handshake-pacer.ts). */
    handshakesPerSecond: number;
  }>;
  /** Marketplace: billing clock, network fee (basis points) and the bounds of a rental. */
  market: Readonly<{
    billingMinuteSeconds: number;
    feeBps: number;
    maxDevices: number;
    maxHours: number;
    archiveMaxBytes: number;
    logMaxBytesPerJob: number;
  }>;
  /** Staking (off when perGpu is 0): the stake per GPU, the slash in basis points, the unbonding delay. */
  stakes: Readonly<{ perGpu: bigint; slashBps: number; unbondSeconds: number; pendingSeconds: number }>;
  /** Getting into jobs (`ignis clusters ssh`/`port-forward`): open streams per cluster, idle timeout. */
  access: Readonly<{ maxStreamsPerCluster: number; idleSeconds: number }>;
  /** Cluster overlays: whether to offer them, the lighthouse's UDP port, and the host workers reach it at. */
  mesh: Readonly<{ mode: "auto" | "on" | "off"; port: number; host: string | undefined }>;
  /** Reward roots on an EVM chain: where, signed with which key file, on which contract (undefined: off). */
  chain: Readonly<{
    rpcUrl: string | undefined;
    keyFile: string | undefined;
    contract: string | undefined;
    retrySeconds: number;
  }>;
}>;

/** Raised when the environment or flags hold bad values; lists every bad key at once. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const FLAG_TO_ENV: Record<string, string> = { port: "IGNIS_PORT", data: "IGNIS_DATA_DIR" };

/** Parses flags (`--port`, `--data`) over the environment, once, into a frozen Config. */
export function loadConfig(env: Record<string, string | undefined>, argv: string[] = []): Config {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: "string" }, data: { type: "string" } },
    strict: false,
    allowPositionals: true,
  });
  const merged: Record<string, string | undefined> = { ...env };
  for (const [flag, key] of Object.entries(FLAG_TO_ENV)) {
    const value = values[flag];
    if (typeof value === "string") merged[key] = value;
  }
  // Empty strings in the environment mean "unset", as shells commonly export them.
  for (const key of Object.keys(merged)) if (merged[key] === "") delete merged[key];
  const parsed = EnvSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.IGNIS_OIDC_ISSUER && !e.IGNIS_OIDC_AUDIENCE) {
    problems.push("IGNIS_OIDC_AUDIENCE: required when IGNIS_OIDC_ISSUER is set");
  }
  if (e.IGNIS_ALERT_WEBHOOK_URL && !e.IGNIS_ALERT_WEBHOOK_URL.startsWith("https://")) {
    problems.push("IGNIS_ALERT_WEBHOOK_URL: must be an https:// URL");
  }
  if (e.IGNIS_ALERT_WEBHOOK_URL && !e.IGNIS_ALERT_WEBHOOK_SECRET) {
    problems.push("IGNIS_ALERT_WEBHOOK_SECRET: required when IGNIS_ALERT_WEBHOOK_URL is set");
  }
  if (e.IGNIS_CHAIN_CONTRACT && !e.IGNIS_CHAIN_RPC) {
    problems.push("IGNIS_CHAIN_RPC: required when IGNIS_CHAIN_CONTRACT is set");
  }
  if (e.IGNIS_CHAIN_CONTRACT && !e.IGNIS_CHAIN_KEY_FILE) {
    problems.push("IGNIS_CHAIN_KEY_FILE: required when IGNIS_CHAIN_CONTRACT is set");
  }
  problems.push(...unworkableTiming(e));
  if (BigInt(e.IGNIS_STAKE_PER_GPU) > 0n && e.IGNIS_UNBOND_SECONDS < e.IGNIS_EPOCH_SECONDS) {
    // Shorter, a device could stake for an epoch's close and take its stake back before a proof could slash it.
    problems.push(
      `IGNIS_UNBOND_SECONDS: ${e.IGNIS_UNBOND_SECONDS} s is shorter than an epoch (IGNIS_EPOCH_SECONDS ${e.IGNIS_EPOCH_SECONDS}); ` +
        "a stake must stay slashable for at least one epoch after it stops counting",
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    port: e.IGNIS_PORT,
    host: e.IGNIS_HOST,
    dataDir: e.IGNIS_DATA_DIR,
    publicUrl: e.IGNIS_PUBLIC_URL?.replace(/\/$/, ""),
    databaseUrl: e.DATABASE_URL,
    dbPoolSize: e.IGNIS_DB_POOL_SIZE,
    oidc: Object.freeze({
      issuer: e.IGNIS_OIDC_ISSUER,
      audience: e.IGNIS_OIDC_AUDIENCE ?? "ignis-api",
      cliClientId: e.IGNIS_OIDC_CLI_CLIENT_ID,
      webClientId: e.IGNIS_OIDC_WEB_CLIENT_ID,
      embedded: !e.IGNIS_OIDC_ISSUER,
    }),
    natsUrl: e.IGNIS_NATS_URL,
    redisUrl: e.IGNIS_REDIS_URL,
    epochSeconds: e.IGNIS_EPOCH_SECONDS,
    heartbeatSeconds: e.IGNIS_HEARTBEAT_SECONDS,
    // Buffered up-minutes are flushed every few seconds; wait a little longer than one flush.
    epochFinalizationSeconds:
      e.IGNIS_EPOCH_FINALIZATION_SECONDS ?? Math.min(30, Math.max(1, e.IGNIS_HEARTBEAT_SECONDS * 2)),
    challengeMeanSeconds: e.IGNIS_CHALLENGE_MEAN_SECONDS,
    challengeRetrySeconds: e.IGNIS_CHALLENGE_RETRY_SECONDS,
    challengeAbsenceSeconds: e.IGNIS_CHALLENGE_ABSENCE_SECONDS ?? e.IGNIS_CHALLENGE_MEAN_SECONDS,
    // Re-checks are drawn from an exponential distribution: an idle device goes 12 means without one with
    // probability e^-12 (6 in a million gaps), so an honest device almost never loses an epoch to this rule.
    proofMaxAgeSeconds: e.IGNIS_PROOF_MAX_AGE_SECONDS ?? 12 * e.IGNIS_CHALLENGE_MEAN_SECONDS,
    logLevel: e.IGNIS_LOG_LEVEL,
    metricsPort: e.IGNIS_METRICS_PORT,
    alertWebhook: Object.freeze({
      url: e.IGNIS_ALERT_WEBHOOK_URL,
      secret: e.IGNIS_ALERT_WEBHOOK_SECRET,
      allowPrivate: e.IGNIS_ALERT_WEBHOOK_ALLOW_PRIVATE ?? false,
    }),
    corsOrigins: Object.freeze(
      (e.IGNIS_CORS_ORIGINS ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    bodyLimitBytes: e.IGNIS_BODY_LIMIT_BYTES,
    rateLimits: e.IGNIS_RATE_LIMITS === "on",
    securityContainment: e.IGNIS_SECURITY_CONTAINMENT === "on",
    trustProxy: parseTrustProxy(e.IGNIS_TRUST_PROXY),
    replicaId: e.IGNIS_REPLICA_ID ?? `replica-${process.pid}`,
    webDir: e.IGNIS_WEB_DIR,
    worker: Object.freeze({
      handshakesPerSecond: e.IGNIS_HANDSHAKES_PER_SECOND,
      // Flush well within the epoch finalization delay, so a closing epoch has every minute stored.
      uptimeFlushSeconds:
        e.IGNIS_UPTIME_FLUSH_SECONDS ??
        Math.min(
          5,
          Math.max(
            0.05,
            (e.IGNIS_EPOCH_FINALIZATION_SECONDS ?? Math.min(30, Math.max(1, e.IGNIS_HEARTBEAT_SECONDS * 2))) /
              3,
          ),
        ),
      keyOverlapSeconds: e.IGNIS_KEY_OVERLAP_SECONDS,
      keyMaxAgeSeconds: e.IGNIS_KEY_MAX_AGE_SECONDS,
      minWorkerVersion: e.IGNIS_MIN_WORKER_VERSION,
      outdatedGraceSeconds: e.IGNIS_OUTDATED_GRACE_SECONDS,
      releaseMaxBytes: e.IGNIS_WORKER_RELEASE_MAX_BYTES,
      rolloutTickSeconds: e.IGNIS_ROLLOUT_TICK_SECONDS,
    }),
    market: Object.freeze({
      // One billing minute is one uptime minute slot (an epoch has 60), so shortening epochs for a test or a
      // demo shortens rentals with them.
      billingMinuteSeconds: e.IGNIS_BILLING_MINUTE_SECONDS ?? e.IGNIS_EPOCH_SECONDS / 60,
      feeBps: e.IGNIS_NETWORK_FEE_BPS,
      maxDevices: e.IGNIS_CLUSTER_MAX_DEVICES,
      maxHours: e.IGNIS_CLUSTER_MAX_HOURS,
      archiveMaxBytes: e.IGNIS_JOB_ARCHIVE_MAX_BYTES,
      logMaxBytesPerJob: e.IGNIS_JOB_LOG_MAX_BYTES,
    }),
    stakes: Object.freeze({
      perGpu: BigInt(e.IGNIS_STAKE_PER_GPU),
      slashBps: e.IGNIS_SLASH_BPS,
      unbondSeconds: e.IGNIS_UNBOND_SECONDS,
      pendingSeconds: e.IGNIS_STAKE_PENDING_SECONDS,
    }),
    access: Object.freeze({
      maxStreamsPerCluster: e.IGNIS_ACCESS_MAX_STREAMS,
      idleSeconds: e.IGNIS_ACCESS_IDLE_SECONDS,
    }),
    mesh: Object.freeze({ mode: e.IGNIS_MESH, port: e.IGNIS_MESH_PORT, host: e.IGNIS_MESH_HOST }),
    chain: Object.freeze({
      rpcUrl: e.IGNIS_CHAIN_RPC,
      keyFile: e.IGNIS_CHAIN_KEY_FILE,
      contract: e.IGNIS_CHAIN_CONTRACT?.toLowerCase(),
      retrySeconds: e.IGNIS_CHAIN_RETRY_SECONDS,
    }),
  });
}

/** Up-minute slots a device must hold in an epoch to earn under the default season (see season-lifecycle.ts). */
const DEFAULT_MIN_UP_SLOTS = 45;

/**
 * Timing settings that start but can never work, each named with what to change. A heartbeat marks one uptime
 * slot (epochSeconds / 60 long); a heartbeat longer than a slot leaves slots empty, so a device is up in at most
 * epochSeconds / heartbeat of the 60 and, below the season's minimum, never earns. Up-minutes are flushed before
 * an epoch is closed, so the flush must come within the finalization delay, and that delay within the epoch.
 */
function unworkableTiming(e: z.infer<typeof EnvSchema>): string[] {
  const problems: string[] = [];
  const slotSeconds = e.IGNIS_EPOCH_SECONDS / 60;
  if (e.IGNIS_HEARTBEAT_SECONDS > slotSeconds) {
    const reachable = Math.floor(e.IGNIS_EPOCH_SECONDS / e.IGNIS_HEARTBEAT_SECONDS);
    problems.push(
      `IGNIS_HEARTBEAT_SECONDS: ${e.IGNIS_HEARTBEAT_SECONDS} s is longer than one uptime slot ` +
        `(IGNIS_EPOCH_SECONDS ${e.IGNIS_EPOCH_SECONDS} / 60 = ${round(slotSeconds)} s), so a device is up in at most ` +
        `${reachable} of an epoch's 60 slots${reachable < DEFAULT_MIN_UP_SLOTS ? ` and never reaches the ${DEFAULT_MIN_UP_SLOTS} needed to earn` : ""}; ` +
        `set IGNIS_HEARTBEAT_SECONDS to at most ${round(slotSeconds)} or IGNIS_EPOCH_SECONDS to at least ${Math.ceil(e.IGNIS_HEARTBEAT_SECONDS * 60)}`,
    );
  }
  const finalization =
    e.IGNIS_EPOCH_FINALIZATION_SECONDS ?? Math.min(30, Math.max(1, e.IGNIS_HEARTBEAT_SECONDS * 2));
  if (e.IGNIS_UPTIME_FLUSH_SECONDS !== undefined && e.IGNIS_UPTIME_FLUSH_SECONDS >= finalization) {
    problems.push(
      `IGNIS_UPTIME_FLUSH_SECONDS: ${e.IGNIS_UPTIME_FLUSH_SECONDS} s is not shorter than the epoch finalization ` +
        `delay (IGNIS_EPOCH_FINALIZATION_SECONDS, ${finalization} s), so epochs close before their last up-minutes ` +
        `are stored; lower IGNIS_UPTIME_FLUSH_SECONDS or raise IGNIS_EPOCH_FINALIZATION_SECONDS`,
    );
  }
  if (finalization >= e.IGNIS_EPOCH_SECONDS) {
    problems.push(
      `IGNIS_EPOCH_FINALIZATION_SECONDS: ${finalization} s is not shorter than an epoch (IGNIS_EPOCH_SECONDS ` +
        `${e.IGNIS_EPOCH_SECONDS} s), so every epoch closes after the next one has ended; lower it or lengthen epochs`,
    );
  }
  return problems;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** `true`/`false`, a hop count, or a comma-separated list of proxy addresses or CIDRs. */
function parseTrustProxy(value: string | undefined): boolean | number | readonly string[] {
  if (!value || value === "false") return false;
  if (value === "true") return true;
  if (/^\d+$/.test(value)) return Number(value);
  return Object.freeze(
    value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
}
