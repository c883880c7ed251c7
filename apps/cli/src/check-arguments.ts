import { parseArgs } from "node:util";
import { closestWord } from "./closest-word.js";
import { type Command, type Options, UsageError } from "./command.js";

/** The flags every command takes on top of its own; the CLI answers them before the command runs. */
export const GLOBAL_OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const satisfies Options;

/** A command's own arguments: those before `--` (after it, the words are a job's command, not this CLI's). */
export function ownArguments(argv: string[]): string[] {
  const split = argv.indexOf("--");
  return split === -1 ? argv : argv.slice(0, split);
}

const FLAG_LIKE = /^--?[a-zA-Z][a-zA-Z-]{0,29}(=|$)/;

/**
 * Joins a string flag to a following value that starts with `-` (`--signature -Zk3…` → `--signature=-Zk3…`):
 * parseArgs refuses such a value as ambiguous, yet base64url keys and signatures start with `-` one time in 64.
 * A following word that looks like a flag (`--state --jsno`: letters and dashes, as no 32-byte key does) is left
 * alone, so that mistake is still named.
 */
export function joinDashValues(options: Options, argv: string[]): string[] {
  const own = ownArguments(argv);
  const joined: string[] = [];
  for (let i = 0; i < own.length; i++) {
    const word = own[i] as string;
    const next = own[i + 1];
    const option = word.startsWith("--") ? options[word.slice(2)] : undefined;
    const value = next?.startsWith("-") && next !== "-" && !FLAG_LIKE.test(next);
    if (option?.type === "string" && value) {
      joined.push(`${word}=${next}`);
      i++;
    } else joined.push(word);
  }
  return [...joined, ...argv.slice(own.length)];
}

/** "unknown option '--devics' (did you mean --devices?)" from parseArgs' error, with the nearest flag. */
function unknownOption(error: Error, options: Options): UsageError {
  const flag = /'(-{1,2}[^'=\s]+)/.exec(error.message)?.[1];
  if (!flag) return new UsageError(error.message);
  const names = Object.keys(options).map((name) => `--${name}`);
  const guess = closestWord(flag.startsWith("--") ? flag : `-${flag}`, names);
  return new UsageError(`unknown option '${flag}'${guess ? ` (did you mean ${guess}?)` : ""}`);
}

/**
 * Checks arguments against a command's declared flags and actions, without running anything: an unknown flag, a
 * flag without its value or an unknown action is a UsageError naming it, with the nearest known one.
 * `siblings` are the words of the command's subcommands (`ssh` under `clusters`), offered as suggestions too.
 */
export function checkArguments(command: Command, argv: string[], siblings: readonly string[] = []): void {
  // A command's own flag wins (`ignis worker update --version V` names a release).
  const options = { ...GLOBAL_OPTIONS, ...command.options };
  let positionals: string[];
  try {
    ({ positionals } = parseArgs({
      args: ownArguments(argv),
      options,
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw unknownOption(e, command.options);
    throw new UsageError(e.message);
  }
  const [first] = positionals;
  if (command.actions === undefined || first === undefined) return;
  if (command.actions.includes(first)) return;
  const name = `ignis ${command.path.join(" ")}`;
  const guess = closestWord(first, [...command.actions, ...siblings]);
  const hint = guess ? ` (did you mean '${name} ${guess}'?)` : "";
  if (command.actions.length === 0) throw new UsageError(`${name} takes no argument '${first}'${hint}`);
  throw new UsageError(`unknown action '${first}' for ${name}${hint}; one of: ${command.actions.join(", ")}`);
}
