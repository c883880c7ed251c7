import { join } from "node:path";
import {
  findHardwareProfile,
  type JobServerMessage,
  type JobWorkerMessage,
  type MeshLinksMessage,
  type ServerMessage,
  type StreamServerMessage,
  type WorkerMessage,
} from "@ignis/protocol";
import { AccessRefused, createJobHost, type JobHost } from "../jobs/job-host.js";
import { isJobRuntime, type JobRuntimeChoice, noJobRuntime } from "../jobs/job-runtime.js";
import type { LimitCaps } from "../jobs/limits.js";
import { createSimulatedDeviceRunner } from "../jobs/subprocess-runtime.js";
import type { Prover } from "../prover/prover.js";
import { selectProver } from "../prover/select-prover.js";
import { createStreamHost, type StreamHost } from "./job-streams.js";

/**
 * What a worker does for the server besides heartbeating: answer proof-of-GPU challenges with its prover and
 * run jobs with the job host. Both are created on first use, so an idle simulated fleet costs nothing.
 */
export interface DeviceDuties {
  proof(message: Extract<ServerMessage, { type: "proof.challenge" | "proof.reveal-request" }>): void;
  job(message: JobServerMessage): void;
  /** A customer's stream into one of this device's jobs (ignis clusters ssh / port-forward). */
  stream(message: StreamServerMessage): void;
  busy(): boolean;
  /**
   * Whether this device's prover answers the memory phase: an override says so itself; otherwise the CPU
   * prover of cpu-backend profiles (simulated ones included) does, and the GPU provers do not yet.
   */
  provesMemory(): boolean;
  close(): Promise<void>;
}

/** Builds the duties of one device. `send` goes over whatever session is live when the answer is ready. */
export function createDeviceDuties(options: {
  profileId: string;
  stateDir: string;
  send: (message: WorkerMessage) => void;
  log: (line: string) => void;
  proverOverride?: Prover | undefined;
  /**
   * What runs jobs; without one, simulated devices use the simulated-device runner and others run none. A promise
   * is a sandbox still being checked: job orders wait for it, in order.
   */
  jobs?: JobRuntimeChoice | Promise<JobRuntimeChoice> | undefined;
  jobCaps?: LimitCaps | undefined;
  /** The host of the server URL the worker uses now (the lighthouse's default host). */
  serverHost?: (() => string | undefined) | undefined;
}): DeviceDuties {
  const { send, log } = options;
  let prover: Promise<Prover> | undefined;
  let jobs: JobHost | undefined;
  let jobsReady: Promise<void> = Promise.resolve();
  let closed = false;
  let streams: StreamHost | undefined;
  const profile = findHardwareProfile(options.profileId) ?? findHardwareProfile("cpu-generic")!;

  const proverOf = () => {
    prover ??= options.proverOverride
      ? Promise.resolve(options.proverOverride)
      : selectProver({ profile }).then((selection) => {
          if (selection.fallbackReason) log(`prover: ${selection.fallbackReason}`);
          return selection.prover;
        });
    return prover;
  };

  // Challenges are answered one at a time, in arrival order: a prover holds one device.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    queue = queue.then(work).catch((error: unknown) => log(`proof: ${(error as Error).message}`));
  };

  return {
    provesMemory: () =>
      options.proverOverride ? options.proverOverride.provesMemory === true : profile.proof.backend === "cpu",
    proof(message) {
      enqueue(async () => {
        const p = await proverOf();
        if (message.type !== "proof.challenge") return send(await p.reveal(message));
        send(await p.commit(message));
        // The memory phase follows the row commit, which keeps its own deadline.
        if (message.vram && p.commitMemory) send(await p.commitMemory(message));
      });
    },
    stream(message) {
      streams ??= createStreamHost({
        send: (m) => {
          send(m);
          return true;
        },
        // Only a job this device's job host started for that cluster, and still runs, is ever opened.
        open: (order) =>
          jobs
            ? jobs.openAccess(order)
            : Promise.reject(new AccessRefused("job_not_running", "no job runs on this device")),
        log,
      });
      streams.handle(message);
    },
    job(message) {
      if (jobs) return jobs.handle(message);
      // The first orders wait for the sandbox check (a worker connects before it ends); they keep their order.
      jobsReady = jobsReady
        .then(() => options.jobs)
        .catch((error: unknown) => noJobRuntime(`the sandbox check failed: ${(error as Error).message}`))
        .then((choice) => {
          if (closed) return;
          jobs ??= createJobHost({
            send: (m: JobWorkerMessage | MeshLinksMessage) => send(m),
            ...(options.serverHost ? { serverHost: options.serverHost } : {}),
            workDir: join(options.stateDir, "jobs"),
            runtime: jobRuntimeFor(profile.simulated, choice),
            caps: options.jobCaps,
            log,
          });
          jobs.handle(message);
        });
    },
    busy: () => (jobs?.running().length ?? 0) > 0,
    async close() {
      closed = true;
      streams?.closeAll();
      await jobs?.stopAll();
      if (prover) await (await prover).close();
    },
  };
}

/**
 * The job runtime of a device: the one given, where it may serve this device. The simulated-device runner (no
 * sandbox) runs only the jobs of simulated profiles, and is their default; a device with real hardware and no
 * runtime runs no jobs. `ignis worker run` always passes its sandbox (or why it has none).
 */
export function jobRuntimeFor(simulated: boolean, given: JobRuntimeChoice | undefined): JobRuntimeChoice {
  if (!given)
    return simulated ? createSimulatedDeviceRunner() : noJobRuntime("the worker has no job sandbox");
  if (isJobRuntime(given) && given.simulatedOnly && !simulated) {
    return noJobRuntime("the simulated-device runner runs the jobs of simulated devices only");
  }
  return given;
}
