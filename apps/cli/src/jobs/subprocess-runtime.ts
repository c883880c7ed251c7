import { type ChildProcess, execFile, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { connectAccessProcess, spawnAccessProcess } from "./access-process.js";
import type { CleanupReport, JobLaunch, JobRuntime, StartedJob } from "./job-runtime.js";
import { readHostLimits } from "./sandbox/engine.js";

/**
 * Jobs as plain subprocesses of the worker: NO SANDBOX. The job runs as the worker's own user, sees the whole
 * filesystem the worker can read (its key included), every host process and the host's network. It exists for
 * two named uses only:
 * - `createSimulatedDeviceRunner`: the jobs of simulated devices in `ignis sim` and the test suites;
 * - `createUnsafeSubprocessRuntime`: `ignis worker run --unsafe-subprocess-jobs`, a developer's own machine.
 * `ignis worker run` never picks it on its own.
 */

/** The clean environment of a subprocess job: a fixed PATH (with this Node), the scratch as HOME, and the job's. */
export function subprocessEnv(launch: Pick<JobLaunch, "env" | "scratchDir">): Record<string, string> {
  return {
    PATH: [dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
    HOME: launch.scratchDir,
    TMPDIR: launch.scratchDir,
    LANG: "C.UTF-8",
    ...launch.env,
  };
}

/** The prlimit arguments of a subprocess job: open files, no core dumps, largest file (within the worker's own). */
export function prlimitArgs(
  limits: { openFiles: number; scratchBytes: number },
  host = readHostLimits(),
): string[] {
  const nofile = Math.min(limits.openFiles, host.openFiles);
  const fsize = Math.min(limits.scratchBytes, host.fileBytes ?? Number.MAX_SAFE_INTEGER);
  return [`--nofile=${nofile}:${nofile}`, "--core=0:0", `--fsize=${fsize}:${fsize}`, "--"];
}

function hasPrlimit(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile("prlimit", ["--version"], { timeout: 3000 }, (error) => resolve(!error));
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined) return false;
  try {
    // The negative pid signals the whole process group the job may have forked.
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

function createSubprocessRuntime(runner: string, simulatedOnly: boolean): JobRuntime {
  let prlimit: Promise<boolean> | undefined;
  const children = new Map<string, ChildProcess>();
  const launches = new Map<string, JobLaunch>();

  const start = async (launch: JobLaunch): Promise<StartedJob> => {
    if (launch.image)
      throw new Error(`${runner} jobs cannot run an image; this device has no container engine`);
    prlimit ??= hasPrlimit();
    const [bin, args] = (await prlimit)
      ? ["prlimit", [...prlimitArgs(launch.limits), launch.command, ...launch.args]]
      : [launch.command, launch.args];
    const child = spawn(bin, args, {
      cwd: launch.scratchDir,
      env: subprocessEnv(launch),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const spawnError = await new Promise<Error | null>((resolve) => {
      child.once("error", resolve);
      child.once("spawn", () => resolve(null));
    });
    if (spawnError) throw spawnError;
    children.set(launch.jobId, child);
    launches.set(launch.jobId, launch);
    const ended = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    let stopping = false;
    return {
      stdout: child.stdout!,
      stderr: child.stderr!,
      ended,
      closed,
      stop() {
        if (stopping) return;
        stopping = true;
        signalGroup(child, "SIGTERM");
        const timer = setTimeout(() => signalGroup(child, "SIGKILL"), launch.limits.killGraceSeconds * 1000);
        timer.unref();
        void ended.then(() => clearTimeout(timer));
      },
    };
  };

  return {
    runner,
    sandboxed: false,
    simulatedOnly,
    start,
    async cleanup(jobId: string, scratchDir: string): Promise<CleanupReport> {
      const child = children.get(jobId);
      children.delete(jobId);
      launches.delete(jobId);
      const survivors: string[] = [];
      // Whatever the job left in its process group dies with it; a process that left the group (setsid) is
      // beyond reach: this runner has no sandbox.
      if (child && signalGroup(child, "SIGKILL")) survivors.push(`process group ${child.pid}`);
      await rm(scratchDir, { recursive: true, force: true }).catch(() => undefined);
      return { survivors };
    },
    async openAccess(jobId, request) {
      const launch = launches.get(jobId);
      const child = children.get(jobId);
      if (!launch || !child || child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`job ${jobId} is not running here`);
      }
      // No sandbox: a command runs like the job, in its folder with its variables; a port is the host's own.
      if (request.kind === "forward") return connectAccessProcess(request.port);
      return spawnAccessProcess(request.argv[0]!, request.argv.slice(1), {
        cwd: launch.scratchDir,
        env: subprocessEnv(launch),
      });
    },
    sweep: async () => [],
  };
}

/** The runner of simulated devices (`ignis sim`, tests): jobs as subprocesses, no sandbox. */
export function createSimulatedDeviceRunner(): JobRuntime {
  return createSubprocessRuntime("simulated-subprocess", true);
}

/** `--unsafe-subprocess-jobs`: a developer's worker runs jobs as its own subprocesses, no sandbox. */
export function createUnsafeSubprocessRuntime(): JobRuntime {
  return createSubprocessRuntime("unsafe-subprocess", false);
}
