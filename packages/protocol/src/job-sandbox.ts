import { z } from "zod";

/**
 * What the job sandbox of a worker is and what it may run: container image references, the resource limits a
 * rental gives its job, and the report a worker makes about its sandbox (stored in the device's metadata).
 */

/** Longest image reference accepted (registries allow 255 characters for a repository name). */
export const IMAGE_REFERENCE_MAX_CHARS = 255;

// The reference grammar of the distribution spec (github.com/distribution/reference), without the parts that
// let a string be read as something else: it starts with a letter or digit, so `--privileged` or `-v=/:/host`
// is never an image, and it has no spaces, `=`, `,` or shell characters.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]{1,5})?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const IMAGE_REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`,
);

/**
 * True when `image` is a plain container image reference (`python:3.12`, `ghcr.io/org/app@sha256:...`,
 * `localhost:5000/team/img:v1`). Anything that could be read as a flag or an option is not.
 */
export function isImageReference(image: string): boolean {
  return image.length > 0 && image.length <= IMAGE_REFERENCE_MAX_CHARS && IMAGE_REFERENCE.test(image);
}

/** A container image reference (see isImageReference). */
export const ImageReference = z
  .string()
  .max(IMAGE_REFERENCE_MAX_CHARS)
  .refine(isImageReference, "a container image reference such as python:3.12");

/** A valid environment variable name for a job. */
export const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * Variables the network sets for every rank: the IGNIS_ rendezvous variables and the names distributed
 * frameworks (torch.distributed) read. A customer may not set any of them, nor any other IGNIS_* name.
 */
export const RENDEZVOUS_VARIABLES = [
  "IGNIS_CLUSTER_ID",
  "IGNIS_RANK",
  "IGNIS_WORLD_SIZE",
  "IGNIS_HEAD_ADDR",
  "IGNIS_HEAD_HOST",
  "IGNIS_HEAD_PORT",
  "RANK",
  "WORLD_SIZE",
  "LOCAL_RANK",
  "MASTER_ADDR",
  "MASTER_PORT",
] as const;

/** True when a customer may not set `name`: a rendezvous variable or anything in the IGNIS_ namespace. */
export function isReservedEnvName(name: string): boolean {
  return name.startsWith("IGNIS_") || (RENDEZVOUS_VARIABLES as readonly string[]).includes(name);
}

/**
 * An environment value a job may carry: no line breaks or NUL, because values reach the container engine
 * through an env file (never argv), one `NAME=value` per line. Encode multi-line secrets (base64).
 */
export function isSafeEnvValue(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}

/**
 * Keys a job spec may not carry: they would ask the sandbox for devices, privileges, host mounts or another
 * network. A spec naming one is refused with `job_privileges_refused` rather than a generic unknown field.
 */
export const PRIVILEGED_JOB_KEYS = [
  "privileged",
  "devices",
  "device",
  "gpus",
  "capabilities",
  "capAdd",
  "cap_add",
  "securityOpt",
  "security_opt",
  "volumes",
  "volume",
  "mounts",
  "mount",
  "binds",
  "network",
  "networkMode",
  "network_mode",
  "pid",
  "ipc",
  "uts",
  "userns",
  "user",
  "runtime",
  "sysctls",
  "ulimits",
  "hostNetwork",
  "hostPid",
  "engineArgs",
  "flags",
] as const;

/** Resource limits a rental gives its job; the worker applies the lower of these and its own caps. */
export const JobLimits = z.strictObject({
  /** CPU cores (fractions allowed). */
  cpus: z.number().positive().max(4096).optional(),
  /** Memory in bytes; going over it ends the job with reason `oom`. */
  memoryBytes: z
    .int()
    .min(16 * 1024 * 1024)
    .optional(),
  /** Most processes and threads at once. */
  pids: z.int().min(16).max(1_000_000).optional(),
  /** Most bytes the job's scratch directory may hold; going over it ends the job with reason `scratch_limit`. */
  scratchBytes: z
    .int()
    .min(1024 * 1024)
    .optional(),
});
/** Resource limits of a job. */
export type JobLimits = z.infer<typeof JobLimits>;

/** Why the sandbox ended a job (`job.status` `reason`). */
export const JobEndReason = z.enum([
  "oom",
  "scratch_limit",
  "sandbox_unavailable",
  "rental_ended",
  "invalid_job",
]);
/** Why the sandbox ended a job. */
export type JobEndReason = z.infer<typeof JobEndReason>;

const reportText = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, "no control characters");

/**
 * The job sandbox of a device as its worker reports it in the device's metadata (`hardware.sandbox`):
 * - `container`: jobs run in containers of `engine` (version, OCI runtime, rootless or not); hireable;
 * - `unavailable`: no working engine, so the device is not hireable (`reason` says why, `message` how to fix);
 * - `unsafe-subprocess`: a developer ran the worker with `--unsafe-subprocess-jobs`: jobs run unsandboxed, and
 *   the device is hired only by customers who ask for unsandboxed devices.
 */
export const SandboxReport = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("container"),
    engine: z.enum(["podman", "docker"]),
    version: reportText(60),
    runtime: reportText(60),
    rootless: z.boolean(),
    /** How the job's network is fenced: `filtered` blocks host, LAN and metadata addresses. */
    network: z.enum(["filtered"]),
    gpus: z.enum(["none", "nvidia-cdi", "nvidia-docker", "amd"]),
  }),
  z.strictObject({
    kind: z.literal("unavailable"),
    reason: z.literal("sandbox_unavailable"),
    message: reportText(300),
  }),
  z.strictObject({
    kind: z.literal("unsafe-subprocess"),
    reason: z.literal("unsafe_subprocess_jobs"),
    message: reportText(300),
  }),
]);
/** A worker's report about its job sandbox. */
export type SandboxReport = z.infer<typeof SandboxReport>;
