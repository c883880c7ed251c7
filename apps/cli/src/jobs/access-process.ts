import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import type { AccessProcess } from "./job-runtime.js";

/**
 * A customer's process in a job as a spawned command: its stdin, stdout and stderr, its exit code. The command
 * line is fixed by the runtime (an engine's `exec`, or nsenter into the job's network); nothing of it is a shell.
 */
export function spawnAccessProcess(
  bin: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<AccessProcess> {
  const child: ChildProcess = spawn(bin, [...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("spawn", () => {
      child.off("error", reject);
      child.on("error", () => undefined);
      child.stdin!.on("error", () => undefined);
      const ended = new Promise<number | null>((done) => child.once("close", (code) => done(code)));
      resolve({
        input: child.stdin!,
        output: child.stdout!,
        errors: child.stderr!,
        ended,
        kill: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        },
      });
    });
  });
}

/**
 * A connection to 127.0.0.1:`port` from the worker's own network (the simulated-device runner, whose jobs share
 * the host's network): the socket is both the input and the output; it ends with 0, or null when it failed.
 */
export function connectAccessProcess(port: number): Promise<AccessProcess> {
  const socket = connect({ host: "127.0.0.1", port });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      let failed = false;
      socket.on("error", () => {
        failed = true;
      });
      const ended = new Promise<number | null>((done) => socket.once("close", () => done(failed ? null : 0)));
      resolve({ input: socket, output: socket, errors: null, ended, kill: () => socket.destroy() });
    });
  });
}
