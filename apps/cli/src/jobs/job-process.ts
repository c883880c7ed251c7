import { type ChildProcess, execFile, spawn } from "node:child_process";
import { dirname } from "node:path";
import { type ContainerRuntime, gpuFlags, type JobPlatform } from "./runtime-probe.js";

/** What to run, where, with which variables. */
export interface ProcessSpec {
  jobId: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  image: string | null;
  scratchDir: string;
}

/** Resource limits of a subprocess job (the container engine enforces its own). */
export interface ProcessLimits {
  openFiles: number;
  /** Largest file the job may write, in bytes. */
  fileBytes: number;
  /** Address-space limit in bytes, or null: runtimes such as Node reserve far more than they use. */
  memoryBytes: number | null;
  /** Seconds between SIGTERM and SIGKILL when a job is stopped. */
  killGraceSeconds: number;
}

/** A started job process: how it ended, and how to end it. */
export interface JobProcess {
  runner: string;
  child: ChildProcess;
  /** Resolves when the main process exits (its children may still hold the output pipes). */
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** Resolves when the output pipes have closed. */
  closed: Promise<void>;
  /** Asks the job to stop (SIGTERM), then kills it after the grace period. */
  stop(): void;
  /** Kills whatever the job left behind in its process group once it has exited. */
  reap(): void;
}

/** The clean environment of a subprocess job: a fixed PATH (with this Node), the scratch as HOME, and the spec's. */
export function subprocessEnv(spec: ProcessSpec): Record<string, string> {
  return {
    PATH: [dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
    HOME: spec.scratchDir,
    TMPDIR: spec.scratchDir,
    LANG: "C.UTF-8",
    ...spec.env,
  };
}

/** The prlimit wrapper for a subprocess job: open files, no core dumps, file size, optional address space. */
export function prlimitArgs(limits: ProcessLimits): string[] {
  return [
    `--nofile=${limits.openFiles}:${limits.openFiles}`,
    "--core=0:0",
    `--fsize=${limits.fileBytes}:${limits.fileBytes}`,
    ...(limits.memoryBytes ? [`--as=${limits.memoryBytes}:${limits.memoryBytes}`] : []),
    "--",
  ];
}

/** The `run` arguments for a container job; variable values travel in the engine's environment, not argv. */
export function containerArgs(spec: ProcessSpec, runtime: ContainerRuntime, nvidia: boolean): string[] {
  return [
    "run",
    "--rm",
    "--init",
    "--name",
    containerName(spec.jobId),
    // Ranks reach the head at IGNIS_HEAD_ADDR, which is the machine's own address.
    "--network",
    "host",
    "--pids-limit",
    "4096",
    "--volume",
    `${spec.scratchDir}:/work`,
    "--workdir",
    "/work",
    ...Object.keys(spec.env).flatMap((name) => ["--env", name]),
    ...gpuFlags(runtime, nvidia),
    spec.image ?? "",
    spec.command,
    ...spec.args,
  ];
}

/** The container's name, so it can be stopped by name even if the engine's client process is gone. */
export function containerName(jobId: string): string {
  return `ignis-${jobId}`;
}

/**
 * Starts a job: in a container when an engine answers and the spec names an image, otherwise as a subprocess in
 * its scratch directory, in its own process group, with a clean environment and prlimit limits where available.
 */
export function startJobProcess(spec: ProcessSpec, platform: JobPlatform, limits: ProcessLimits): JobProcess {
  const runtime = spec.image ? platform.container : null;
  let child: ChildProcess;
  let runner: string;
  if (runtime) {
    runner = `container:${runtime.kind}`;
    child = spawn(runtime.bin, containerArgs(spec, runtime, platform.nvidia), {
      cwd: spec.scratchDir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
  } else {
    runner = "subprocess";
    const env = subprocessEnv(spec);
    const [bin, args] = platform.prlimit
      ? ["prlimit", [...prlimitArgs(limits), spec.command, ...spec.args]]
      : [spec.command, spec.args];
    child = spawn(bin, args, {
      cwd: spec.scratchDir,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
  }
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once("error", () => resolve({ code: null, signal: null }));
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const closed = new Promise<void>((resolve) => {
    child.once("error", () => resolve());
    child.once("close", () => resolve());
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (runtime) {
      execFile(
        runtime.bin,
        ["stop", "--time", String(limits.killGraceSeconds), containerName(spec.jobId)],
        () => {
          execFile(runtime.bin, ["rm", "--force", containerName(spec.jobId)], () => undefined);
        },
      );
      return;
    }
    signalGroup(child, "SIGTERM");
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), limits.killGraceSeconds * 1000);
    timer.unref();
    void exited.then(() => clearTimeout(timer));
  };
  const reap = () => {
    if (runtime || child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // the group is already gone
    }
  };
  return { runner, child, exited, closed, stop, reap };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // The negative pid signals the whole process group the job may have forked.
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
