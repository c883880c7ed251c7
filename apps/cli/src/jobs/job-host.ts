import { lookup } from "node:dns/promises";
import { chmod, mkdir, mkdtemp } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import {
  isImageReference,
  type JobEndReason,
  type JobServerMessage,
  type JobStartMessage,
  type JobStatusMessage,
  type JobWorkerMessage,
  type MeshLinksMessage,
  type StreamOpenMessage,
} from "@ignis/protocol";
import { unpackArchive } from "./archive.js";
import {
  type AccessProcess,
  isJobRuntime,
  type JobEnd,
  type JobRuntimeChoice,
  type StartedJob,
} from "./job-runtime.js";
import { effectiveLimits, type LimitCaps, type MachineFacts, machineFacts } from "./limits.js";
import { LogStream } from "./log-stream.js";
import { measureOverlayLinks } from "./mesh/overlay-links.js";

/** How the worker runs jobs. */
export interface JobHostOptions {
  /** Sends a message to the server over the worker's session. */
  send: (message: JobWorkerMessage | MeshLinksMessage) => void;
  /** The host of the server URL the worker uses: where the lighthouse is when the order names no host. */
  serverHost?: () => string | undefined;
  /** Folder under which each job gets a fresh scratch directory, wiped when the job ends. */
  workDir: string;
  /** What runs the jobs: the worker's sandbox, the simulated-device runner, or why there is none. */
  runtime: JobRuntimeChoice;
  /** The supplier's caps on a job's resources. */
  caps?: LimitCaps;
  /** Most bytes an archive may unpack to. */
  unpackLimitBytes?: number;
  /** The worker's own log (alerts go there too). */
  log?: (line: string) => void;
  /** What the machine has (tests pass a fixed one). */
  machine?: () => Promise<MachineFacts>;
}

/** Runs the jobs the server sends and reports their output and state. */
export interface JobHost {
  /** Handles a `job.start` or `job.stop` from the server. */
  handle(message: JobServerMessage): void;
  /** Stops every running job (the worker is shutting down) and waits for them to end and be cleaned up. */
  stopAll(): Promise<void>;
  /** Ids of the jobs running now. */
  running(): string[];
  /**
   * Opens a customer's command or port connection in a job: only one this host started for the order's cluster
   * and that runs now. Whatever is opened ends with the job. Rejects with an `AccessRefused` otherwise.
   */
  openAccess(order: StreamOpenMessage): Promise<AccessProcess>;
}

/** A stream the worker will not open, with the code the server passes on to the customer. */
export class AccessRefused extends Error {
  constructor(
    readonly code: "job_not_running" | "stream_refused",
    message: string,
  ) {
    super(message);
  }
}

interface RunningJob {
  clusterId: string;
  /** What customers opened in the job; killed when it ends. */
  access: Set<AccessProcess>;
  started: StartedJob | null;
  stopReason: string | null;
  done: Promise<void>;
}

/** A job that cannot run, with the reason reported to the server. */
class JobRefused extends Error {
  constructor(
    readonly reason: JobEndReason,
    message: string,
  ) {
    super(message);
  }
}

const ENGINE_ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Refuses a start order the sandbox must not take, whatever the server checked: a bad image or variable. */
export function checkStartOrder(message: JobStartMessage): void {
  if (message.image !== null && !isImageReference(message.image)) {
    throw new JobRefused("invalid_job", "the image is not a container image reference");
  }
  for (const [name, value] of Object.entries(message.env)) {
    if (!ENGINE_ENV_NAME.test(name) || /[\r\n\0]/.test(value)) {
      throw new JobRefused("invalid_job", `the variable ${name.slice(0, 64)} cannot be passed to a job`);
    }
  }
}

/** Where rank 0 listens and where the other ranks reach it, from the rendezvous variables. */
function rendezvous(message: JobStartMessage): {
  publish: number[];
  reach: { host: string; port: number }[];
} {
  // On the overlay the ranks meet at rank 0's overlay address: nothing is published on the device's own
  // addresses (where its LAN could reach it), and no rank needs a way to the head's session address.
  if (message.mesh) return { publish: [], reach: [] };
  const port = Number(message.env.IGNIS_HEAD_PORT);
  const host = message.env.IGNIS_HEAD_HOST ?? "";
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return { publish: [], reach: [] };
  if (message.rank === 0) return { publish: message.worldSize > 1 ? [port] : [], reach: [] };
  return { publish: [], reach: isIP(host) !== 0 ? [{ host, port }] : [] };
}

/** The lighthouse's IPv4 address: the order's host, or the server's host the worker dialled, resolved. */
async function lighthouseIp(message: JobStartMessage, serverHost: string | undefined): Promise<string> {
  const host = message.mesh?.lighthouse.host ?? serverHost;
  if (!host) throw new Error("the overlay's lighthouse has no known host");
  const bare = host.replace(/^\[|\]$/g, "");
  if (isIP(bare) === 4) return bare;
  return (await lookup(bare, { family: 4 })).address;
}

/** Creates the job host a worker dispatches `job.*` messages to. */
export function createJobHost(options: JobHostOptions): JobHost {
  const jobs = new Map<string, RunningJob>();
  const finished = new Map<string, JobStatusMessage>();
  const runtime = options.runtime;
  const machine = options.machine ?? (() => machineFacts(options.workDir));

  const start = (message: JobStartMessage) => {
    if (jobs.has(message.jobId)) return;
    const last = finished.get(message.jobId);
    // A repeated start (a redelivery after reconnecting) gets the final state again instead of a second run.
    if (last) return options.send(last);
    const job: RunningJob = {
      clusterId: message.clusterId,
      access: new Set(),
      started: null,
      stopReason: null,
      done: Promise.resolve(),
    };
    jobs.set(message.jobId, job);
    job.done = run(message, job).finally(() => jobs.delete(message.jobId));
  };

  const run = async (message: JobStartMessage, job: RunningJob) => {
    const log = new LogStream({
      jobId: message.jobId,
      send: options.send,
      limitBytes: message.logLimitBytes,
    });
    const runner = isJobRuntime(runtime) ? runtime.runner : undefined;
    let final: Omit<JobStatusMessage, "type" | "jobId"> | undefined;
    let scratch: string | undefined;
    const stoppedBeforeStart = (why: string) => {
      log.system(`[ignis] job stopped before it started (${why})`);
      final = {
        state: "stopped",
        exitCode: null,
        signal: null,
        ...(why === "rental_ended" ? { reason: "rental_ended" as const } : {}),
      };
    };
    try {
      if (!isJobRuntime(runtime)) {
        throw new JobRefused("sandbox_unavailable", `this device cannot run jobs: ${runtime.unavailable}`);
      }
      checkStartOrder(message);
      const deadline = Date.parse(message.deadline);
      if (!(deadline > Date.now())) {
        stoppedBeforeStart("rental_ended");
        return;
      }
      // The order is taken: preparing (the archive, an image pull, the container) may take a while.
      options.send({ type: "job.status", jobId: message.jobId, state: "starting", runner: runtime.runner });
      await mkdir(options.workDir, { recursive: true, mode: 0o700 });
      scratch = await mkdtemp(join(options.workDir, `${message.jobId}-`));
      await chmod(scratch, 0o700);
      if (message.archive) await unpackArchive(message.archive, scratch, options.unpackLimitBytes);
      if (job.stopReason) {
        stoppedBeforeStart(job.stopReason);
        return;
      }
      const limits = effectiveLimits(message.limits, options.caps ?? {}, await machine());
      const meet = rendezvous(message);
      const overlay = message.mesh
        ? { mesh: message.mesh, lighthouseIp: await lighthouseIp(message, options.serverHost?.()) }
        : undefined;
      const started = await runtime.start({
        jobId: message.jobId,
        rank: message.rank,
        command: message.command,
        args: message.args,
        env: message.env,
        image: message.image,
        scratchDir: scratch,
        limits,
        deadline,
        publishPorts: meet.publish,
        reach: meet.reach,
        overlay,
      });
      job.started = started;
      if (job.stopReason) started.stop();
      started.stdout.on("data", (b: Buffer) => log.write("stdout", b));
      started.stderr.on("data", (b: Buffer) => log.write("stderr", b));
      log.system(`[ignis] rank ${message.rank}/${message.worldSize} started (${runtime.runner})`);
      options.send({ type: "job.status", jobId: message.jobId, state: "running", runner: runtime.runner });
      const timer = setTimeout(
        () => {
          job.stopReason ??= "rental_ended";
          started.stop();
        },
        Math.max(0, deadline - Date.now()),
      );
      timer.unref();
      const measuring = new AbortController();
      if (started.overlay && message.mesh) {
        log.system(`[ignis] on the cluster's overlay as ${started.overlay.addr}`);
        void reportLinks(message, started.overlay, measuring.signal);
      }
      const end: JobEnd = await started.ended;
      measuring.abort();
      clearTimeout(timer);
      await Promise.race([started.closed, new Promise((r) => setTimeout(r, 2000).unref())]);
      final = outcome(end, job.stopReason, log);
    } catch (error) {
      const reason = error instanceof JobRefused ? error.reason : undefined;
      const text = error instanceof Error ? error.message : String(error);
      log.system(`[ignis] job could not run: ${text}`);
      final = { state: "failed", error: text.slice(0, 500), ...(reason ? { reason } : {}) };
    } finally {
      for (const a of job.access) a.kill();
      job.access.clear();
      // Nothing of the job may outlive it: the runtime removes it, looks for survivors and wipes the scratch.
      let alert: string | undefined;
      if (isJobRuntime(runtime)) {
        const report = await runtime
          .cleanup(message.jobId, scratch ?? "")
          .catch((e: unknown) => ({ survivors: [`cleanup failed: ${(e as Error).message}`] }));
        if (report.survivors.length > 0) {
          alert = `killed after the job's end: ${report.survivors.join("; ")}`.slice(0, 500);
          log.system(`[ignis] ALERT ${alert}`);
          options.log?.(`ALERT job ${message.jobId}: ${alert}`);
        }
      }
      log.close();
      const status: JobStatusMessage = {
        type: "job.status",
        jobId: message.jobId,
        ...(final ?? { state: "failed", error: "the job host stopped" }),
        ...(runner ? { runner } : {}),
        ...(alert ? { alert } : {}),
      };
      finished.set(message.jobId, status);
      // Remember recent outcomes only: enough to answer a redelivered start, never growing without bound.
      if (finished.size > 256) finished.delete(finished.keys().next().value!);
      options.send(status);
    }
  };

  /** Measures this rank's links over the overlay once the job runs, and reports them to the server. */
  const reportLinks = async (
    message: JobStartMessage,
    node: NonNullable<StartedJob["overlay"]>,
    signal: AbortSignal,
  ) => {
    try {
      const mesh = message.mesh!;
      const links = await measureOverlayLinks(node, mesh.peers, message.rank, mesh.probePort, { signal });
      if (!signal.aborted && links.length > 0) {
        options.send({ type: "mesh.links", jobId: message.jobId, links });
      }
    } catch (error) {
      options.log?.(`overlay links of job ${message.jobId}: ${(error as Error).message}`);
    }
  };

  return {
    handle(message) {
      if (message.type === "job.start") return start(message);
      const job = jobs.get(message.jobId);
      if (!job) return;
      job.stopReason ??= message.reason;
      job.started?.stop();
    },
    async stopAll() {
      for (const job of jobs.values()) {
        job.stopReason ??= "worker_shutdown";
        job.started?.stop();
      }
      await Promise.all([...jobs.values()].map((j) => j.done));
    },
    running: () => [...jobs.keys()],
    async openAccess(order) {
      const job = jobs.get(order.jobId);
      // A job of another cluster is refused like a missing one: the server named a job this host did not start.
      if (
        !job ||
        job.clusterId !== order.clusterId ||
        !job.started ||
        job.stopReason ||
        !isJobRuntime(runtime)
      ) {
        throw new AccessRefused("job_not_running", "that job is not running on this device");
      }
      if (order.kind === "forward" ? order.port === undefined : order.port !== undefined) {
        throw new AccessRefused("stream_refused", "a forward names a port, and only a forward does");
      }
      let opened: AccessProcess;
      try {
        opened = await runtime.openAccess(
          order.jobId,
          order.kind === "exec"
            ? {
                kind: "exec",
                argv: order.argv ?? ["/bin/sh"],
                tty: order.tty === true,
                cols: order.cols,
                rows: order.rows,
              }
            : { kind: "forward", port: order.port ?? 0 },
        );
      } catch (error) {
        throw new AccessRefused("stream_refused", (error as Error).message.slice(0, 300));
      }
      if (jobs.get(order.jobId) !== job) {
        opened.kill();
        throw new AccessRefused("job_not_running", "the job ended");
      }
      job.access.add(opened);
      void opened.ended.then(() => job.access.delete(opened));
      return opened;
    },
  };
}

/** The final state of a job that ran: stopped on request, ended by the sandbox, or exited on its own. */
function outcome(
  end: JobEnd,
  stopReason: string | null,
  log: LogStream,
): Omit<JobStatusMessage, "type" | "jobId"> {
  if (end.reason === "oom" || end.reason === "scratch_limit") {
    const text = `${end.reason}: ${end.detail ?? "the sandbox ended the job"}`;
    log.system(`[ignis] job failed (${text})`);
    return {
      state: "failed",
      reason: end.reason,
      error: text.slice(0, 500),
      exitCode: end.code,
      signal: end.signal,
    };
  }
  if (stopReason) {
    log.system(`[ignis] job stopped (${stopReason})`);
    return {
      state: "stopped",
      exitCode: end.code,
      signal: end.signal,
      ...(stopReason === "rental_ended" ? { reason: "rental_ended" as const } : {}),
    };
  }
  log.system(`[ignis] job exited with ${end.code ?? end.signal}`);
  return { state: "exited", exitCode: end.code, signal: end.signal };
}
