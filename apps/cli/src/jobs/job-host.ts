import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { JobServerMessage, JobStartMessage, JobStatusMessage, JobWorkerMessage } from "@ignis/protocol";
import { unpackArchive } from "./archive.js";
import { type JobProcess, type ProcessLimits, startJobProcess } from "./job-process.js";
import { LogStream } from "./log-stream.js";
import { type JobPlatform, probeJobPlatform } from "./runtime-probe.js";

/** How the worker runs jobs. */
export interface JobHostOptions {
  /** Sends a message to the server over the worker's session. */
  send: (message: JobWorkerMessage) => void;
  /** Folder under which each job gets a fresh scratch directory, removed when the job ends. */
  workDir: string;
  /** `subprocess` never uses a container engine (simulated devices); `auto` probes for one. */
  mode?: "auto" | "subprocess";
  limits?: Partial<ProcessLimits>;
  /** Most bytes an archive may unpack to. */
  unpackLimitBytes?: number;
}

/** Runs the jobs the server sends and reports their output and state. */
export interface JobHost {
  /** Handles a `job.start` or `job.stop` from the server. */
  handle(message: JobServerMessage): void;
  /** Stops every running job (the worker is shutting down) and waits for them to end. */
  stopAll(): Promise<void>;
  /** Ids of the jobs running now. */
  running(): string[];
}

const DEFAULT_LIMITS: ProcessLimits = {
  openFiles: 4096,
  fileBytes: 8 * 1024 ** 3,
  memoryBytes: null,
  killGraceSeconds: 5,
};

interface RunningJob {
  process: JobProcess | null;
  stopReason: string | null;
  done: Promise<void>;
}

/** Creates the job host a worker dispatches `job.*` messages to. */
export function createJobHost(options: JobHostOptions): JobHost {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const jobs = new Map<string, RunningJob>();
  const finished = new Map<string, JobStatusMessage>();
  let platform: Promise<JobPlatform> | undefined;
  const platformOf = () => {
    platform ??= probeJobPlatform().then((p) =>
      options.mode === "subprocess" ? { ...p, container: null } : p,
    );
    return platform;
  };

  const start = (message: JobStartMessage) => {
    if (jobs.has(message.jobId)) return;
    const last = finished.get(message.jobId);
    // A repeated start (a redelivery after reconnecting) gets the final state again instead of a second run.
    if (last) return options.send(last);
    const job: RunningJob = { process: null, stopReason: null, done: Promise.resolve() };
    jobs.set(message.jobId, job);
    job.done = run(message, job).finally(() => jobs.delete(message.jobId));
  };

  const run = async (message: JobStartMessage, job: RunningJob) => {
    const log = new LogStream({
      jobId: message.jobId,
      send: options.send,
      limitBytes: message.logLimitBytes,
    });
    const report = (status: Omit<JobStatusMessage, "type" | "jobId">) => {
      const full: JobStatusMessage = { type: "job.status", jobId: message.jobId, ...status };
      if (status.state !== "running") {
        finished.set(message.jobId, full);
        // Remember recent outcomes only: enough to answer a redelivered start, never growing without bound.
        if (finished.size > 256) finished.delete(finished.keys().next().value!);
      }
      options.send(full);
    };
    let scratch: string | undefined;
    try {
      const remainingMs = Date.parse(message.deadline) - Date.now();
      if (!(remainingMs > 0)) throw new Error("the rental has already ended");
      await mkdir(options.workDir, { recursive: true, mode: 0o700 });
      scratch = await mkdtemp(join(options.workDir, `${message.jobId}-`));
      if (message.archive) await unpackArchive(message.archive, scratch, options.unpackLimitBytes);
      const p = await platformOf();
      if (message.image && !p.container)
        throw new Error("this device has no container engine for image jobs");
      if (job.stopReason) throw new Error(`stopped before it started (${job.stopReason})`);
      const proc = startJobProcess({ ...message, scratchDir: scratch }, p, limits);
      job.process = proc;
      proc.child.stdout?.on("data", (b: Buffer) => log.write("stdout", b));
      proc.child.stderr?.on("data", (b: Buffer) => log.write("stderr", b));
      const spawned = await Promise.race([
        new Promise<Error>((resolve) => proc.child.once("error", resolve)),
        new Promise<null>((resolve) => proc.child.once("spawn", () => resolve(null))),
      ]);
      if (spawned) throw spawned;
      log.system(`[ignis] rank ${message.rank}/${message.worldSize} started (${proc.runner})`);
      report({ state: "running", runner: proc.runner });
      const deadline = setTimeout(() => {
        job.stopReason = "rental_ended";
        proc.stop();
      }, remainingMs);
      deadline.unref();
      const { code, signal } = await proc.exited;
      clearTimeout(deadline);
      proc.reap();
      await Promise.race([proc.closed, new Promise((r) => setTimeout(r, 2000).unref())]);
      if (job.stopReason) {
        log.system(`[ignis] job stopped (${job.stopReason})`);
        report({ state: "stopped", exitCode: code, signal, runner: proc.runner });
      } else {
        log.system(`[ignis] job exited with ${code ?? signal}`);
        report({ state: "exited", exitCode: code, signal, runner: proc.runner });
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log.system(`[ignis] job could not run: ${reason}`);
      report({ state: "failed", error: reason.slice(0, 500) });
    } finally {
      log.close();
      if (scratch) await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
    }
  };

  return {
    handle(message) {
      if (message.type === "job.start") return start(message);
      const job = jobs.get(message.jobId);
      if (!job) return;
      job.stopReason = message.reason;
      job.process?.stop();
    },
    async stopAll() {
      for (const job of jobs.values()) {
        job.stopReason ??= "worker_shutdown";
        job.process?.stop();
      }
      await Promise.all([...jobs.values()].map((j) => j.done));
    },
    running: () => [...jobs.keys()],
  };
}
