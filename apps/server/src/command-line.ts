import { type ParseArgsConfig, parseArgs } from "node:util";
import { closestName } from "./config-typos.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Flags of every ignis-server command: where the server listens and keeps its data, as the server takes them. */
const SERVER_FLAGS = {
  port: { type: "string" },
  data: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const satisfies Options;

/** One ignis-server command: its flags, what its positionals may be, and its usage text. */
interface ServerCommand {
  options: Options;
  /** Allowed positionals in order (`audit verify`); empty: none. */
  words: readonly string[];
  usage: string;
}

const COMMON =
  "  --port P    the server's port (IGNIS_PORT, default 8080)\n" +
  "  --data DIR  the server's data dir (IGNIS_DATA_DIR, default .ignis): embedded database, admin key\n" +
  "  --help, --version";

/** The commands of ignis-server; `serve` is the default. */
export const SERVER_COMMANDS: Record<"serve" | "invite" | "audit" | "chain", ServerCommand> = {
  serve: {
    options: SERVER_FLAGS,
    words: [],
    usage:
      "usage: ignis-server [--port P] [--data DIR]            start the control plane\n" +
      "       ignis-server invite --email E --roles R[,R...]  invite a user (prints the invitation link)\n" +
      "       ignis-server audit verify                     check the audit log's hash chain offline\n" +
      "       ignis-server chain deploy                     deploy the RewardRoots contract (prints its address)\n" +
      `${COMMON}\n` +
      "Every other setting is an environment variable (IGNIS_*, DATABASE_URL; see the README's table). Settings\n" +
      "that cannot work (a heartbeat longer than an uptime slot, say) are refused at start with what to change.",
  },
  invite: {
    options: {
      ...SERVER_FLAGS,
      email: { type: "string" },
      roles: { type: "string" },
      server: { type: "string" },
    },
    words: [],
    usage:
      "usage: ignis-server invite --email E --roles supplier|customer|admin[,...] [--port P] [--data DIR] [--server URL]\n" +
      "  With a server running on the data dir, the invitation goes through its admin API (with the data dir's\n" +
      "  admin-api-key) and the link is the server's own; --server URL names a server elsewhere. With none\n" +
      "  running, the database is opened here. The link uses IGNIS_PUBLIC_URL, else http://localhost:PORT.\n" +
      COMMON,
  },
  audit: {
    options: SERVER_FLAGS,
    words: ["verify"],
    usage:
      "usage: ignis-server audit verify [--data DIR]   (DATABASE_URL selects PostgreSQL)\n" +
      "  walks the audit hash chain straight from the database; exit 0 intact, 1 broken (the row is named).\n" +
      "  The embedded database admits one process: with the server running, use `ignis admin audit verify`.\n" +
      COMMON,
  },
  chain: {
    options: SERVER_FLAGS,
    words: ["deploy"],
    usage:
      "usage: ignis-server chain deploy   (IGNIS_CHAIN_RPC and IGNIS_CHAIN_KEY_FILE required)\n" +
      "  deploys the RewardRoots contract with the key file's account as its only publisher and prints the\n" +
      "  contract's address on the last line of stdout; set IGNIS_CHAIN_CONTRACT to it to publish epoch roots.\n" +
      COMMON,
  },
};

/** A usage error of ignis-server: printed with a pointer to the usage, exit code 2. */
export class ServerUsageError extends Error {
  override readonly name = "ServerUsageError";
}

/** What the command line asks for: a command and its flags, or help or the version. */
export interface ServerInvocation {
  command: keyof typeof SERVER_COMMANDS;
  values: Record<string, string | boolean | undefined>;
  help: boolean;
  version: boolean;
}

/**
 * Parses ignis-server's command line, touching nothing: an unknown command, flag or word is a ServerUsageError
 * naming it with the nearest known one, so a typo is caught before any database, port or credential is touched.
 */
export function parseServerCommandLine(argv: string[]): ServerInvocation {
  const first = argv[0];
  const names = Object.keys(SERVER_COMMANDS).filter((n) => n !== "serve");
  let command: ServerInvocation["command"] = "serve";
  let rest = argv;
  if (first !== undefined && !first.startsWith("-")) {
    if (!names.includes(first)) {
      const guess = closestName(first, names);
      throw new ServerUsageError(
        `unknown command '${first}'${guess ? ` (did you mean '${guess}'?)` : ""}; one of: ${names.join(", ")}`,
      );
    }
    command = first as ServerInvocation["command"];
    rest = argv.slice(1);
  }
  const spec = SERVER_COMMANDS[command];
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: spec.options,
      strict: true,
      allowPositionals: true,
    }) as typeof parsed;
  } catch (error) {
    const e = error as Error & { code?: string };
    const flag = /'(-{1,2}[^'=\s]+)/.exec(e.message)?.[1];
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) {
      const guess = closestName(
        flag,
        Object.keys(spec.options).map((o) => `--${o}`),
      );
      throw new ServerUsageError(`unknown option '${flag}'${guess ? ` (did you mean ${guess}?)` : ""}`);
    }
    throw new ServerUsageError(e.message);
  }
  const help = parsed.values.help === true;
  const version = parsed.values.version === true;
  if (!help && !version) {
    const words = parsed.positionals;
    const expected = spec.words;
    for (let i = 0; i < Math.max(words.length, expected.length); i++) {
      if (words[i] === expected[i]) continue;
      if (words[i] === undefined) throw new ServerUsageError(`'${command}' needs '${expected[i]}'`);
      const guess = expected[i] ? closestName(words[i]!, [expected[i]!]) : undefined;
      throw new ServerUsageError(
        `unexpected argument '${words[i]}'${guess ? ` (did you mean '${guess}'?)` : ""}`,
      );
    }
  }
  return { command, values: parsed.values, help, version };
}
