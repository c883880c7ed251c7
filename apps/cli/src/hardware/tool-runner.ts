import { execFile } from "node:child_process";

/** Runs a vendor tool and returns its stdout, or undefined when it is absent, fails or times out. */
export type ToolRunner = (command: string, args: readonly string[]) => Promise<string | undefined>;

/** The real runner: execFile (no shell), 10 s timeout, 4 MiB of output at most. */
export const runTool: ToolRunner = (command, args) =>
  new Promise((resolve) => {
    execFile(command, [...args], { timeout: 10_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout) => {
      resolve(error ? undefined : stdout);
    });
  });
