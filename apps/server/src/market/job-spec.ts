import {
  ENV_NAME,
  IgnisError,
  isImageReference,
  isReservedEnvName,
  isSafeEnvValue,
  JOB_LIMITS,
  type JobSpecInput,
  PRIVILEGED_JOB_KEYS,
} from "@ignis/protocol";
import { hostPort } from "../devices/session-address.js";
import type { StoredJobSpec } from "./tables.js";

/** Bounds of a rental that come from configuration. */
export interface RentalLimits {
  maxDevices: number;
  maxHours: number;
  archiveMaxBytes: number;
}

/** A job spec that passed every check, with its archive decoded size. */
export interface CheckedJobSpec {
  spec: StoredJobSpec;
  archive: string | null;
  archiveBytes: number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const GZIP_MAGIC = [0x1f, 0x8b];

/** Refuses a device count or rental length outside the configured bounds, each with its own code. */
export function checkRentalShape(count: number, hours: number, limits: RentalLimits): void {
  if (!Number.isInteger(count) || count < 1 || count > limits.maxDevices) {
    throw new IgnisError("invalid_count", `count must be an integer from 1 to ${limits.maxDevices}`, {
      details: { min: 1, max: limits.maxDevices },
    });
  }
  if (!Number.isInteger(hours) || hours < 1 || hours > limits.maxHours) {
    throw new IgnisError("invalid_hours", `hours must be an integer from 1 to ${limits.maxHours}`, {
      details: { min: 1, max: limits.maxHours },
    });
  }
}

function tooLarge(what: string, limit: number): IgnisError {
  return new IgnisError("job_spec_too_large", `${what} exceeds its limit of ${limit}`, {
    details: { limit, field: what },
  });
}

const JOB_SPEC_KEYS = new Set(["command", "args", "env", "image", "archive"]);

function refuseExtraKeys(job: JobSpecInput): void {
  const extra = Object.keys(job).filter((k) => !JOB_SPEC_KEYS.has(k));
  if (extra.length === 0) return;
  const privileged = extra.filter((k) => (PRIVILEGED_JOB_KEYS as readonly string[]).includes(k));
  if (privileged.length > 0) {
    throw new IgnisError(
      "job_privileges_refused",
      `a job cannot ask for ${privileged.join(", ")}: every job runs in the same unprivileged sandbox`,
      { details: { fields: privileged.map((k) => `job.${k}`) } },
    );
  }
  throw new IgnisError("unknown_field", "the body has fields that cannot be set", {
    details: { errors: extra.slice(0, 5).map((k) => ({ path: `body.job.${k}`, message: "unknown field" })) },
  });
}

function checkArgs(args: unknown): string[] {
  if (args === undefined) return [];
  if (!Array.isArray(args) || !args.every((a): a is string => typeof a === "string")) {
    throw new IgnisError("invalid_job_args", "job.args must be an array of strings", {
      details: { field: "job.args" },
    });
  }
  if (args.length > JOB_LIMITS.args) throw tooLarge("job.args", JOB_LIMITS.args);
  if (args.some((a) => a.length > JOB_LIMITS.argChars)) throw tooLarge("job.args[]", JOB_LIMITS.argChars);
  return args;
}

function checkImage(image: unknown): string | null {
  if (image === undefined || image === null) return null;
  if (typeof image !== "string" || !isImageReference(image)) {
    const shown = typeof image === "string" ? image.slice(0, 64) : typeof image;
    throw new IgnisError("invalid_image", `'${shown}' is not a container image reference`, {
      details: { field: "job.image", example: "python:3.12 or ghcr.io/org/image@sha256:..." },
    });
  }
  return image;
}

function checkEnv(env: unknown): Record<string, string> {
  if (env === undefined) return {};
  if (typeof env !== "object" || env === null || Array.isArray(env)) {
    throw new IgnisError("validation_failed", "job.env must be an object of NAME: value strings", {
      details: { errors: [{ path: "body.job.env", message: "not an object" }] },
    });
  }
  const entries = Object.entries(env as Record<string, unknown>);
  if (entries.length > JOB_LIMITS.envEntries) throw tooLarge("job.env", JOB_LIMITS.envEntries);
  for (const [name, value] of entries) {
    if (!ENV_NAME.test(name)) {
      throw new IgnisError("invalid_env_name", `'${name.slice(0, 64)}' is not a valid variable name`, {
        details: { name: name.slice(0, 64), pattern: ENV_NAME.source },
      });
    }
    if (isReservedEnvName(name)) {
      throw new IgnisError(
        "reserved_env_name",
        `${name} is reserved: the network sets the rendezvous variables and every IGNIS_* name`,
        { details: { name } },
      );
    }
    if (typeof value !== "string" || !isSafeEnvValue(value)) {
      throw new IgnisError(
        "invalid_env_value",
        `job.env.${name} must be a string of one line (encode multi-line secrets, e.g. in base64)`,
        { details: { name } },
      );
    }
    if (value.length > JOB_LIMITS.envValueChars) throw tooLarge(`job.env.${name}`, JOB_LIMITS.envValueChars);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * Checks a job spec: no field asking for privileges, devices, mounts or another network; sizes; args an array
 * of strings; a plain image reference; environment names (valid POSIX-style names, none of the rendezvous
 * variables or the IGNIS_ namespace) with one-line values; and the working-directory archive (base64 of a gzip
 * stream, capped). Each refusal has its own code.
 */
export function checkJobSpec(
  job: JobSpecInput,
  limits: RentalLimits,
  options: { allowUnsandboxed?: boolean | undefined } = {},
): CheckedJobSpec {
  refuseExtraKeys(job);
  if (typeof job.command !== "string" || job.command.length === 0) {
    throw new IgnisError("validation_failed", "job.command must be a non-empty string", {
      details: { errors: [{ path: "body.job.command", message: "not a non-empty string" }] },
    });
  }
  if (job.command.length > JOB_LIMITS.commandChars) throw tooLarge("job.command", JOB_LIMITS.commandChars);
  const args = checkArgs(job.args);
  const env = checkEnv(job.env);
  const image = checkImage(job.image);
  const spec: StoredJobSpec = {
    command: job.command,
    args,
    env,
    image,
    ...(options.allowUnsandboxed ? { allowUnsandboxed: true } : {}),
  };
  const specBytes = Buffer.byteLength(JSON.stringify(spec));
  if (specBytes > JOB_LIMITS.specBytes) throw tooLarge("job", JOB_LIMITS.specBytes);
  if (job.archive !== undefined && typeof job.archive !== "string") {
    throw new IgnisError("validation_failed", "job.archive must be base64", {
      details: { errors: [{ path: "body.job.archive", message: "not a string" }] },
    });
  }
  if (job.archive === undefined || job.archive === "") return { spec, archive: null, archiveBytes: 0 };
  // Check the encoded length first so a huge string is refused before it is decoded.
  if (job.archive.length > Math.ceil(limits.archiveMaxBytes / 3) * 4) {
    throw tooLarge("job.archive", limits.archiveMaxBytes);
  }
  if (!BASE64.test(job.archive)) {
    throw new IgnisError("validation_failed", "job.archive must be base64", {
      details: { errors: [{ path: "body.job.archive", message: "not base64" }] },
    });
  }
  const bytes = Buffer.from(job.archive, "base64");
  if (bytes.length > limits.archiveMaxBytes) throw tooLarge("job.archive", limits.archiveMaxBytes);
  if (bytes[0] !== GZIP_MAGIC[0] || bytes[1] !== GZIP_MAGIC[1]) {
    throw new IgnisError("validation_failed", "job.archive must be a tar.gz", {
      details: { errors: [{ path: "body.job.archive", message: "not a gzip stream" }] },
    });
  }
  return { spec, archive: job.archive, archiveBytes: bytes.length };
}

/**
 * The variables every rank gets on top of the customer's: where the head is, who it is, how many there are,
 * as IGNIS_* and under the names torch.distributed reads (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT).
 */
export function rendezvousEnv(input: {
  clusterId: string;
  rank: number;
  worldSize: number;
  headHost: string;
  headPort: number;
}): Record<string, string> {
  return {
    IGNIS_CLUSTER_ID: input.clusterId,
    IGNIS_RANK: String(input.rank),
    IGNIS_WORLD_SIZE: String(input.worldSize),
    IGNIS_HEAD_ADDR: hostPort(input.headHost, input.headPort),
    IGNIS_HEAD_HOST: input.headHost,
    IGNIS_HEAD_PORT: String(input.headPort),
    RANK: String(input.rank),
    WORLD_SIZE: String(input.worldSize),
    // One rank per device: every rank is the only one on its machine.
    LOCAL_RANK: "0",
    MASTER_ADDR: input.headHost,
    MASTER_PORT: String(input.headPort),
  };
}
