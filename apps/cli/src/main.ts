import { type Command, UsageError } from "./command.js";
import { loadCommands } from "./commands/index.js";

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

function help(commands: Command[]): string {
  const lines = commands.map((c) => `  ignis ${c.path.join(" ").padEnd(22)} ${c.summary}`);
  return `usage: ignis <command> [options]\n\ncommands:\n${lines.join("\n")}\n`;
}

/** Entry point of the `ignis` CLI: dispatches to a command and exits with its code. */
async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const commands = await loadCommands();
  if (argv.length === 0 || argv[0] === "help" || argv[0] === "--help" || argv[0] === "-h") {
    process.stdout.write(help(commands));
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(commands, argv);
  if (!found) {
    process.stderr.write(`ignis: unknown command '${argv.join(" ")}'\n\n${help(commands)}`);
    return 2;
  }
  // After `--` the words are a job's command (`ignis clusters ssh C -- df -h`), not this CLI's flags.
  const split = found.rest.indexOf("--");
  const own = split === -1 ? found.rest : found.rest.slice(0, split);
  if (own.includes("--help") || own.includes("-h")) {
    process.stdout.write(`${found.command.usage}\n`);
    return 0;
  }
  try {
    return await found.command.run(found.rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`ignis: ${error.message}\n\n${found.command.usage}\n`);
      return 2;
    }
    process.stderr.write(`ignis: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ignis: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
