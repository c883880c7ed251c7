import type { Readable, Writable } from "node:stream";
import type { JobEndReason, JobMesh } from "@ignis/protocol";
import type { OverlayNode } from "./mesh/overlay-node.js";

/** The resource limits a job runs under (the lower of the rental's and the worker's caps). */
export interface EffectiveLimits {
  cpus: number;
  memoryBytes: number;
  pids: number;
  scratchBytes: number;
  /** Size of the job's /tmp (a tmpfs, counted in its memory). */
  tmpBytes: number;
  /** Open files per process. */
  openFiles: number;
  /** Seconds between SIGTERM and SIGKILL when a job is stopped. */
  killGraceSeconds: number;
}

/** One rank's job as a runtime starts it. */
export interface JobLaunch {
  jobId: string;
  rank: number;
  command: string;
  args: string[];
  /** The customer's variables and the rendezvous variables; never put on a command line or in a log. */
  env: Record<string, string>;
  /** The image to run, or null for the supplier's default job image. */
  image: string | null;
  /** The job's scratch folder on the host (its working directory), already holding the unpacked archive. */
  scratchDir: string;
  limits: EffectiveLimits;
  /** When the rental ends (epoch ms): the runtime makes sure nothing of the job outlives it for long. */
  deadline: number;
  /** TCP ports the job listens on for the other ranks (the head's rendezvous port on rank 0). */
  publishPorts: number[];
  /** Host and TCP port the job must reach even inside a blocked range (the head, for the other ranks). */
  reach: { host: string; port: number }[];
  /** The cluster's overlay to put the job on, with the lighthouse's resolved address (runtimes that can). */
  overlay?: { mesh: JobMesh; lighthouseIp: string } | undefined;
}

/** How a job's process ended. */
export interface JobEnd {
  code: number | null;
  signal: string | null;
  /** Set when the sandbox ended the job (memory, scratch). */
  reason?: JobEndReason | undefined;
  detail?: string | undefined;
}

/** A job a runtime has started. */
export interface StartedJob {
  stdout: Readable;
  stderr: Readable;
  /** Resolves when the job's main process has ended (its output may still be draining). */
  ended: Promise<JobEnd>;
  /** Resolves when both output streams have closed. */
  closed: Promise<void>;
  /** Asks the job to stop (SIGTERM), then kills it after the grace period. Idempotent. */
  stop(): void;
  /** The job's place on its cluster's overlay, when it joined one; it is left in the runtime's cleanup. */
  overlay?: OverlayNode | undefined;
}

/** What a customer opens in a running job: a command in its container, or a connection to a port inside it. */
export type AccessRequest =
  | { kind: "exec"; argv: string[]; tty: boolean; cols?: number | undefined; rows?: number | undefined }
  | { kind: "forward"; port: number };

/** A process (or connection) opened into a job for a customer: bytes in, bytes out, and how it ended. */
export interface AccessProcess {
  input: Writable;
  output: Readable;
  /** A command's stderr (none with a terminal, where it shares the output, or for a connection). */
  errors: Readable | null;
  /** Resolves with the exit code once the process has ended (null when it was killed or the connection failed). */
  ended: Promise<number | null>;
  /** Ends it now. Idempotent. */
  kill(): void;
}

/** What cleaning up after a job found. */
export interface CleanupReport {
  /** What was still alive after the job's end and had to be killed: each one is an alert. */
  survivors: string[];
}

/** How a worker runs jobs: a container engine, or (never on a real worker) a plain subprocess. */
export interface JobRuntime {
  /** How jobs run, as reported in `job.status` (`container:podman`, `simulated-subprocess`, ...). */
  readonly runner: string;
  /** True when jobs run in an isolated sandbox. */
  readonly sandboxed: boolean;
  /** True for the runner of simulated devices, which a device with real hardware must never use. */
  readonly simulatedOnly: boolean;
  /** Starts a job; rejects when it cannot (bad image, engine error). */
  start(launch: JobLaunch): Promise<StartedJob>;
  /**
   * Ends everything of a job (on exit, stop, deadline or failure), checks that nothing of it survives, kills
   * and reports whatever did, and wipes its scratch folder. Safe to call more than once and for jobs that
   * never started.
   */
  cleanup(jobId: string, scratchDir: string): Promise<CleanupReport>;
  /**
   * Opens a command or a port connection inside a job this runtime started and still runs; rejects for any other
   * job. The worker's job host checks the job's cluster first.
   */
  openAccess(jobId: string, request: AccessRequest): Promise<AccessProcess>;
  /** Removes what an earlier worker process left behind (its jobs' containers); returns what it removed. */
  sweep(): Promise<string[]>;
}

/** A worker that cannot run jobs, and why (reported as `sandbox_unavailable`). */
export interface NoJobRuntime {
  readonly unavailable: string;
}

/** What a device runs its jobs with: a runtime, or the reason it has none. */
export type JobRuntimeChoice = JobRuntime | NoJobRuntime;

/** The choice of a worker with no usable sandbox. */
export function noJobRuntime(reason: string): NoJobRuntime {
  return { unavailable: reason };
}

/** True when the choice is a usable runtime. */
export function isJobRuntime(choice: JobRuntimeChoice): choice is JobRuntime {
  return !("unavailable" in choice);
}
