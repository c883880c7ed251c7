/** One CLI command: its words (`worker enroll`), a one-line summary, usage text and what it does. */
export interface Command {
  path: string[];
  summary: string;
  usage: string;
  /** Runs with the arguments after the command words; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
