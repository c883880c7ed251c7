import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What a finished command printed and how it exited. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not be started (not installed). */
  error?: Error;
}

/** Runs a command without a shell; what it reads on stdin is `input`. */
export type CommandRunner = (
  bin: string,
  args: readonly string[],
  options?: { input?: string | Buffer; timeoutMs?: number; cwd?: string },
) => Promise<CommandResult>;

/**
 * Variables of the worker's environment that configure the container engine itself. The engine gets these and
 * nothing else of the worker's environment; a job gets none of them (engines pass only what is asked for).
 */
const ENGINE_ENV = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "XDG_RUNTIME_DIR",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "DBUS_SESSION_BUS_ADDRESS",
  "CONTAINERS_CONF",
  "CONTAINERS_STORAGE_CONF",
  "CONTAINERS_REGISTRIES_CONF",
  "CONTAINER_HOST",
  "DOCKER_HOST",
  "DOCKER_CONFIG",
  "DOCKER_CONTEXT",
];

/**
 * Where firewall tools (nft, iptables-restore) live. A non-root user's PATH on Debian and Ubuntu leaves these
 * folders out, so a supplier who installed nftables would be told it is missing. Only the sbin folders are added:
 * which engine (podman, docker) the worker runs is still the one its PATH names.
 */
const SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The environment the engine's commands run with: its own settings from the worker's, nothing else. The worker's
 * PATH comes first, with the sbin folders it lacks after it.
 */
export function engineEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ENGINE_ENV) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  const path = (env.PATH ?? DEFAULT_PATH).split(":").filter((dir) => dir !== "");
  env.PATH = [...path, ...SBIN_DIRS.filter((dir) => !path.includes(dir))].join(":");
  return env;
}

/**
 * The folder the engine's commands run in. conmon (podman's monitor, before 2.1.13) creates an empty `oom` file in
 * its working directory when a container is OOM-killed (containers/conmon#504), so it must not inherit the
 * worker's: that would litter wherever the worker was started. A job's `podman init`, which spawns its conmon, runs
 * in a folder of the job's own below this one, where that file is the job's OOM verdict (container-runtime.ts).
 */
export function engineCwd(): string {
  const dir = join(tmpdir(), "ignis-engine");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** The real runner: spawn (no shell), the engine's environment, a timeout, output capped at 4 MiB. */
export const runCommand: CommandRunner = (bin, args, options = {}) =>
  new Promise((resolve) => {
    const child = spawn(bin, [...args], {
      cwd: options.cwd ?? engineCwd(),
      env: engineEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const keep = (into: Buffer[]) => (b: Buffer) => {
      size += b.length;
      if (size <= 4 * 1024 * 1024) into.push(b);
    };
    child.stdout.on("data", keep(out));
    child.stderr.on("data", keep(err));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    timer.unref();
    let failed: Error | undefined;
    child.once("error", (e) => {
      failed = e;
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        ...(failed ? { error: failed } : {}),
      });
    });
  });

/** Runs a command and returns its stdout; throws with its stderr when it fails. */
export async function mustRun(
  run: CommandRunner,
  bin: string,
  args: readonly string[],
  options?: Parameters<CommandRunner>[2],
): Promise<string> {
  const result = await run(bin, args, options);
  if (result.code !== 0) {
    const why = result.error?.message ?? (result.stderr.trim() || `exit code ${result.code}`);
    throw new Error(`${bin} ${args[0] ?? ""}: ${why.split("\n").slice(-3).join(" ").slice(0, 400)}`);
  }
  return result.stdout;
}
