import { ENV_NAME, IgnisError, JOB_LIMITS, type JobSpec } from "@ignis/protocol";
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

/**
 * Checks a job spec: sizes, environment names (valid POSIX-style names, none in the reserved IGNIS_ namespace
 * where the rendezvous variables live) and the working-directory archive (base64 of a gzip stream, capped).
 */
export function checkJobSpec(job: JobSpec, limits: RentalLimits): CheckedJobSpec {
  const args = job.args ?? [];
  const env = job.env ?? {};
  if (job.command.length > JOB_LIMITS.commandChars) throw tooLarge("job.command", JOB_LIMITS.commandChars);
  if (args.length > JOB_LIMITS.args) throw tooLarge("job.args", JOB_LIMITS.args);
  if (args.some((a) => a.length > JOB_LIMITS.argChars)) throw tooLarge("job.args[]", JOB_LIMITS.argChars);
  const names = Object.keys(env);
  if (names.length > JOB_LIMITS.envEntries) throw tooLarge("job.env", JOB_LIMITS.envEntries);
  for (const name of names) {
    if (!ENV_NAME.test(name)) {
      throw new IgnisError("invalid_env_name", `'${name.slice(0, 64)}' is not a valid variable name`, {
        details: { name: name.slice(0, 64), pattern: ENV_NAME.source },
      });
    }
    if (name.startsWith("IGNIS_")) {
      throw new IgnisError(
        "reserved_env_name",
        `${name} is reserved: IGNIS_* variables are set by the network`,
        {
          details: { name },
        },
      );
    }
    if ((env[name] ?? "").length > JOB_LIMITS.envValueChars)
      throw tooLarge(`job.env.${name}`, JOB_LIMITS.envValueChars);
  }
  const spec: StoredJobSpec = { command: job.command, args, env, image: job.image ?? null };
  const specBytes = Buffer.byteLength(JSON.stringify(spec));
  if (specBytes > JOB_LIMITS.specBytes) throw tooLarge("job", JOB_LIMITS.specBytes);
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

/** The variables every rank gets on top of the customer's: where the head is, who it is, how many there are. */
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
  };
}
