import { execFile } from "node:child_process";
import { join } from "node:path";

/** The repository root, from this file. */
export const ROOT = join(import.meta.dirname, "..", "..");

/** What a finished command printed and its exit code. */
export interface BinResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the repository's bins (`apps/cli/bin/ignis.js`) with Node, in `cwd`, with extra environment; with
 * `stdin`, writes it and closes the command's input (a command that forwards stdin, like `clusters ssh`, then sees
 * its end).
 */
export function runBin(
  bin: string,
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string | undefined>;
    timeoutMs?: number;
    stdin?: string;
  } = {},
): Promise<BinResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(ROOT, bin), ...args],
      {
        cwd: options.cwd ?? ROOT,
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs ?? 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}
