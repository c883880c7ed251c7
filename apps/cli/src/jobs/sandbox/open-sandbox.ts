import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import type { SandboxReport } from "@ignis/protocol";
import { type JobRuntime, type JobRuntimeChoice, noJobRuntime } from "../job-runtime.js";
import { effectiveLimits, machineFacts } from "../limits.js";
import type { GpuGrant } from "./container-args.js";
import { createContainerRuntime, uidBaseFor } from "./container-runtime.js";
import { type CommandRunner, runCommand } from "./exec.js";
import type { SandboxConfig } from "./sandbox-config.js";
import { sandboxReadiness } from "./sandbox-readiness.js";

/** The sandbox a worker found: its runtime (or why it has none) and the report for the device's metadata. */
export interface OpenedSandbox {
  runtime: JobRuntimeChoice;
  report: SandboxReport;
}

/** What opening the sandbox needs to know about the device. */
export interface OpenSandboxOptions {
  stateDir: string;
  deviceId: string;
  config: SandboxConfig;
  /** The GPU vendor of the device's claim. */
  gpuVendor: string;
  log: (line: string) => void;
  run?: CommandRunner;
}

function unavailable(message: string): OpenedSandbox {
  return {
    runtime: noJobRuntime(message),
    report: { kind: "unavailable", reason: "sandbox_unavailable", message: message.slice(0, 300) },
  };
}

/** Runs one tiny job end to end (network fence included): the sandbox counts only if it works. */
async function canary(runtime: JobRuntime, workDir: string): Promise<string | null> {
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const jobId = `canary-${randomBytes(6).toString("hex")}`;
  const scratch = await mkdtemp(join(workDir, `${jobId}-`));
  try {
    const started = await runtime.start({
      jobId,
      rank: 0,
      command: "sh",
      args: ["-c", "touch /work/ok && id -u"],
      env: {},
      image: null,
      scratchDir: scratch,
      limits: effectiveLimits({ memoryBytes: 64 * 1024 ** 2, pids: 64 }, {}, await machineFacts(workDir)),
      deadline: Date.now() + 120_000,
      publishPorts: [],
      reach: [],
    });
    let out = "";
    started.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    let err = "";
    started.stderr.on("data", (b: Buffer) => {
      err += b.toString();
    });
    const end = await started.ended;
    await started.closed;
    if (end.code !== 0) return `a test job failed (exit ${end.code}): ${err.trim().slice(-200)}`;
    if (out.trim() === "0") return "a test job ran as root";
    return null;
  } catch (error) {
    return `a test job could not start: ${(error as Error).message}`;
  } finally {
    await runtime.cleanup(jobId, scratch);
  }
}

/**
 * Finds and checks the job sandbox of a worker: a container engine that can isolate jobs on this machine, a
 * firewall tool for the network fence, the default job image, and a test job that runs through all of it.
 * Containers left by an earlier run of this device's worker are removed first. When the engine's default OCI
 * runtime fails (crun on hybrid cgroups), runc is tried. Without a working sandbox the device runs no job.
 */
export async function openSandbox(options: OpenSandboxOptions): Promise<OpenedSandbox> {
  const run = options.run ?? runCommand;
  const { config } = options;
  const vendor = options.gpuVendor === "nvidia" || options.gpuVendor === "amd" ? options.gpuVendor : "none";
  const readiness = await sandboxReadiness(config, vendor, run);
  if (!readiness.ready) return unavailable(`${readiness.problem}; ${readiness.fix}`);
  const { engine, fenceTool } = readiness;
  const gpu: GpuGrant = { vendor, devices: config.gpus };
  const workDir = join(options.stateDir, "jobs");
  const make = (runtimeFlag: string | null) =>
    createContainerRuntime({
      engine: { ...engine, runtimeFlag, runtime: runtimeFlag ?? engine.runtime },
      fenceTool,
      deviceId: options.deviceId,
      workDir,
      secretsDir: join(options.stateDir, "job-env"),
      overlayDir: join(options.stateDir, "mesh"),
      jobImage: config.jobImage,
      user: config.user,
      uidBase: config.uidBase ?? uidBaseFor(options.deviceId),
      allowNetworks: config.allowNetworks,
      gpu,
      scratchCheckMs: config.scratchCheckSeconds * 1000,
      run,
      log: options.log,
    });
  let runtime = make(config.runtime);
  const swept = await runtime.sweep();
  if (swept.length > 0) options.log(`ALERT sandbox: an earlier worker left ${swept.join("; ")}; removed`);
  let failure = await canary(runtime, workDir);
  let runtimeName = config.runtime ?? engine.runtime;
  if (failure && !config.runtime && engine.runtime !== "runc") {
    const runc = await run("runc", ["--version"], { timeoutMs: 5000 });
    if (runc.code === 0) {
      options.log(`sandbox: ${engine.runtime} failed (${failure}); trying runc`);
      runtime = make("runc");
      failure = await canary(runtime, workDir);
      runtimeName = "runc";
    }
  }
  if (failure) return unavailable(`${engine.kind} ${engine.version} with ${runtimeName}: ${failure}`);
  return {
    runtime,
    report: {
      kind: "container",
      engine: engine.kind,
      version: engine.version.slice(0, 60),
      runtime: runtimeName.slice(0, 60),
      rootless: engine.rootless,
      network: "filtered",
      gpus:
        vendor === "none"
          ? "none"
          : vendor === "amd"
            ? "amd"
            : engine.kind === "podman"
              ? "nvidia-cdi"
              : "nvidia-docker",
    },
  };
}
