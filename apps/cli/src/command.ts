import type { ParseArgsConfig } from "node:util";

/** The flags of a command, as node:util `parseArgs` takes them. */
export type Options = NonNullable<ParseArgsConfig["options"]>;

/** One CLI command: its words (`worker enroll`), a one-line summary, usage text and what it does. */
export interface Command {
  path: string[];
  summary: string;
  usage: string;
  /** Every flag it takes; the CLI refuses any other before the command runs (and before credentials). */
  options: Options;
  /**
   * What its first positional may be: the actions (`create`, `ls`...), `[]` when it takes no positionals,
   * absent when they are free (a cluster id). Checked before the command runs.
   */
  actions?: readonly string[];
  /** Runs with the arguments after the command words; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** A usage error: printed with a pointer to the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
