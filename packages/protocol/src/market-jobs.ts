import { z } from "zod";
import { JobEndReason, JobLimits } from "./job-sandbox.js";
import { ClusterId, JobId } from "./market.js";
import { JobMesh } from "./mesh.js";

/** Largest log chunk a worker sends in one message (UTF-8 bytes of `data`). */
export const JOB_LOG_CHUNK_BYTES = 16 * 1024;

/** Server → worker: run one rank of a cluster's job until it exits or `deadline` passes. */
export const JobStartMessage = z.object({
  type: z.literal("job.start"),
  jobId: JobId,
  clusterId: ClusterId,
  rank: z.number().int().min(0),
  worldSize: z.number().int().min(1),
  command: z.string().min(1),
  args: z.array(z.string()),
  /** The customer's variables merged with the rendezvous variables (IGNIS_CLUSTER_ID, IGNIS_RANK, ...). */
  env: z.record(z.string(), z.string()),
  image: z.string().nullable(),
  /** Base64 tar.gz of the working directory, or null. */
  archive: z.string().nullable(),
  /** ISO time at which the rental ends; the worker kills the job then even if no stop arrives. */
  deadline: z.string(),
  /** Output the worker may stream for this job before it truncates. */
  logLimitBytes: z.number().int().min(0),
  /** What the rental gives the job (from the device's claim); the worker applies these or its own lower caps. */
  limits: JobLimits.optional(),
  /** The cluster's private overlay, for a device that reported it can join one (`hardware.mesh`). */
  mesh: JobMesh.optional(),
});
/** A job start order. */
export type JobStartMessage = z.infer<typeof JobStartMessage>;

/** Server → worker: stop a job now (cancellation, end of rental, or the rank was reassigned). */
export const JobStopMessage = z.object({
  type: z.literal("job.stop"),
  jobId: JobId,
  reason: z.enum(["cancelled", "rental_ended", "reassigned"]),
});
/** A job stop order. */
export type JobStopMessage = z.infer<typeof JobStopMessage>;

/** Worker → server: a chunk of a job's output, in order per job. */
export const JobLogMessage = z.strictObject({
  type: z.literal("job.log"),
  jobId: JobId,
  seq: z.number().int().min(0),
  stream: z.enum(["stdout", "stderr", "system"]),
  data: z.string().max(JOB_LOG_CHUNK_BYTES),
});
/** A job log chunk. */
export type JobLogMessage = z.infer<typeof JobLogMessage>;

/**
 * Worker → server: a job changed state. `exited` carries the exit code; `failed` means it could not run or the
 * sandbox ended it, with `reason` (`oom`, `scratch_limit`, `sandbox_unavailable`, ...).
 */
export const JobStatusMessage = z.strictObject({
  type: z.literal("job.status"),
  jobId: JobId,
  /** `starting`: the order is taken and the job is being prepared (archive, image pull, container). */
  state: z.enum(["starting", "running", "exited", "failed", "stopped"]),
  exitCode: z.number().int().nullable().optional(),
  signal: z.string().max(20).nullable().optional(),
  error: z.string().max(500).nullable().optional(),
  /** Why the sandbox failed or ended the job, when it did. */
  reason: JobEndReason.optional(),
  /** How the job ran: `container:podman`, `container:docker`, `unsafe-subprocess` or `simulated-subprocess`. */
  runner: z.string().max(40).optional(),
  /**
   * Set on a final status when cleaning up found something of the job still alive after its end (a process or
   * its container) and had to kill it: the sandbox did not hold as it should. The server logs it as an alert.
   */
  alert: z.string().max(500).optional(),
});
/** A job state report. */
export type JobStatusMessage = z.infer<typeof JobStatusMessage>;

/** Every job message the server sends to a worker. */
export const JobServerMessage = z.discriminatedUnion("type", [JobStartMessage, JobStopMessage]);
/** A job message to a worker. */
export type JobServerMessage = z.infer<typeof JobServerMessage>;

/** Every job message a worker sends to the server. */
export const JobWorkerMessage = z.discriminatedUnion("type", [JobLogMessage, JobStatusMessage]);
/** A job message from a worker. */
export type JobWorkerMessage = z.infer<typeof JobWorkerMessage>;
