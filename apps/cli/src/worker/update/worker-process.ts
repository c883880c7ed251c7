import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writePrivateFile } from "../worker-state.js";
import { releaseEntry } from "./release-install.js";

/**
 * The running worker as other processes see it, through two small files in the state folder: `worker.pid` (who
 * runs, which release, with which flags; written by `ignis worker run`) and `worker-online.json` (written at each
 * session the server accepted). The updater stops a worker and waits for its successor through them.
 */

/** `<state>/worker.pid`: the running worker. */
export interface RunningWorker {
  pid: number;
  version: string;
  /** The flags of `ignis worker run`, without `--state` and `--as-release`, to restart with. */
  args: string[];
}

/** `<state>/worker-online.json`: the last session a worker process opened. */
export interface OnlineRecord {
  pid: number;
  version: string;
  at: string;
}

const PID_FILE = "worker.pid";
const ONLINE_FILE = "worker-online.json";
/** Where a worker started by the updater writes its output. */
export const WORKER_LOG_FILE = "worker.log";

/** Records this process as the running worker. */
export function writeRunningWorker(stateDir: string, record: RunningWorker): void {
  writePrivateFile(join(stateDir, PID_FILE), `${JSON.stringify(record)}\n`);
}

/** Forgets this process as the running worker (only if the file still names it). */
export function clearRunningWorker(stateDir: string, pid: number): void {
  if (readRunningWorker(stateDir)?.pid === pid) rmSync(join(stateDir, PID_FILE), { force: true });
}

/** The running worker recorded in a state folder, if its process is alive. */
export function readRunningWorker(stateDir: string): RunningWorker | undefined {
  const path = join(stateDir, PID_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const record = JSON.parse(readFileSync(path, "utf8")) as RunningWorker;
    return isAlive(record.pid) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Records that a worker process has an accepted session. */
export function writeOnline(stateDir: string, record: OnlineRecord): void {
  writePrivateFile(join(stateDir, ONLINE_FILE), `${JSON.stringify(record)}\n`);
}

/** The last accepted session recorded in a state folder. */
export function readOnline(stateDir: string): OnlineRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, ONLINE_FILE), "utf8")) as OnlineRecord;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Asks a worker to stop (SIGTERM: it sends a last heartbeat and closes its session) and waits until it exited. */
export async function stopWorkerProcess(pid: number, timeoutMs = 15_000): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const until = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > until) {
      process.kill(pid, "SIGKILL");
      break;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A worker release started by the updater. */
export interface StartedWorker {
  pid: number;
  /** Resolves with the exit code if the process ends. */
  exited: Promise<number | null>;
}

/**
 * Starts `<root>/versions/<version>/bin/ignis-worker run --state DIR ...args` on its own (detached, output
 * appended to `<state>/worker.log`), so it outlives the updater.
 */
export function startReleaseWorker(
  root: string,
  version: string,
  stateDir: string,
  args: string[],
): StartedWorker {
  const out = openSync(join(stateDir, WORKER_LOG_FILE), "a");
  try {
    const child = spawn(releaseEntry(root, version), ["run", "--state", stateDir, ...args], {
      detached: true,
      stdio: ["ignore", out, out],
    });
    const exited = new Promise<number | null>((resolve) => {
      child.once("exit", (code) => resolve(code));
      child.once("error", () => resolve(null));
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${releaseEntry(root, version)}`);
    return { pid: child.pid, exited };
  } finally {
    closeSync(out);
  }
}

/**
 * Waits until the started worker recorded an accepted session as `version`, for at most `boundMs`. False when
 * the bound passed or the process ended first.
 */
export async function waitOnline(
  stateDir: string,
  worker: StartedWorker,
  version: string,
  boundMs: number,
): Promise<boolean> {
  let ended = false;
  void worker.exited.then(() => (ended = true));
  const until = Date.now() + boundMs;
  while (Date.now() < until && !ended) {
    const online = readOnline(stateDir);
    if (online && online.pid === worker.pid && online.version === version) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
