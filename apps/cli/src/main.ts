import { checkArguments, joinDashValues, ownArguments } from "./check-arguments.js";
import { closestWord } from "./closest-word.js";
import { type Command, UsageError } from "./command.js";
import { loadCommands } from "./commands/index.js";
import { failureLine } from "./failure-line.js";
import { WORKER_RELEASE } from "./worker/worker-release.js";

function findCommand(commands: Command[], argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of commands) {
    const n = command.path.length;
    if (
      argv.length >= n &&
      command.path.every((w, i) => argv[i] === w) &&
      (!best || n > best.command.path.length)
    ) {
      best = { command, rest: argv.slice(n) };
    }
  }
  return best;
}

function help(commands: Command[], prefix: string[] = []): string {
  const shown = commands.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const lines = shown.map((c) => `  ignis ${c.path.join(" ").padEnd(22)} ${c.summary}`);
  const head = prefix.length > 0 ? `ignis ${prefix.join(" ")} <command>` : "ignis <command>";
  return (
    `usage: ${head} [options]\n\ncommands:\n${lines.join("\n")}\n\n` +
    "Every command takes --help. The server and key come from --server/--api-key or IGNIS_SERVER/IGNIS_API_KEY.\n"
  );
}

/** The words that may follow `path` towards a command (`ssh`, `port-forward` under `clusters`). */
function childWords(commands: Command[], path: string[]): string[] {
  const words = commands
    .filter((c) => c.path.length > path.length && path.every((w, i) => c.path[i] === w))
    .map((c) => c.path[path.length]!);
  return [...new Set(words)];
}

/** Leading words that no command has: "unknown command 'worker enrol' (did you mean 'worker enroll'?)". */
function unknownCommand(commands: Command[], argv: string[]): UsageError {
  const words = argv.slice(0, argv.findIndex((a) => a.startsWith("-")) >>> 0);
  let depth = 0;
  while (depth < words.length && childWords(commands, words.slice(0, depth)).includes(words[depth]!)) depth++;
  const known = words.slice(0, depth);
  const typo = words[depth];
  if (typo === undefined) {
    const children = childWords(commands, known);
    return new UsageError(`'ignis ${known.join(" ")}' needs a command: one of ${children.join(", ")}`);
  }
  const guess = closestWord(typo, childWords(commands, known));
  const hint = guess ? ` (did you mean 'ignis ${[...known, guess].join(" ")}'?)` : "";
  return new UsageError(`unknown command '${[...known, typo].join(" ")}'${hint}; see ignis --help`);
}

/**
 * Entry point of the `ignis` CLI. `--help` and `--version` answer before anything runs; arguments are checked
 * against the command's flags and actions before it looks up credentials; usage errors exit 2 and name the bad
 * word with the nearest known one; failures exit 1 with one line that says what to do.
 */
async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const commands = await loadCommands();
  const [first] = argv;
  if (first === "--version" || first === "-V" || first === "version") {
    process.stdout.write(`ignis ${WORKER_RELEASE}\n`);
    return 0;
  }
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    const asked = argv.slice(1);
    const found = asked.length > 0 ? findCommand(commands, asked) : undefined;
    (first === undefined ? process.stderr : process.stdout).write(
      found ? `${found.command.usage}\n` : help(commands),
    );
    return first === undefined ? 2 : 0;
  }
  const found = findCommand(commands, argv);
  const own = ownArguments(found?.rest ?? argv);
  const wantsHelp = own.includes("--help") || own.includes("-h");
  if (!found?.command.options.version && (own.includes("--version") || own.includes("-V"))) {
    process.stdout.write(`ignis ${WORKER_RELEASE}\n`);
    return 0;
  }
  if (!found) {
    const group = argv.filter((a) => !a.startsWith("-"));
    if (wantsHelp && commands.some((c) => group.every((w, i) => c.path[i] === w))) {
      process.stdout.write(help(commands, group));
      return 0;
    }
    process.stderr.write(`ignis: ${unknownCommand(commands, argv).message}\n`);
    return 2;
  }
  const name = `ignis ${found.command.path.join(" ")}`;
  if (wantsHelp) {
    process.stdout.write(`${found.command.usage}\n`);
    return 0;
  }
  try {
    const args = joinDashValues(found.command.options, found.rest);
    checkArguments(found.command, args, childWords(commands, found.command.path));
    return await found.command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`ignis: ${error.message}\nsee: ${name} --help\n`);
      return 2;
    }
    process.stderr.write(`ignis: ${failureLine(error)}\n`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ignis: ${failureLine(error)}\n`);
    process.exitCode = 1;
  },
);
