import { parseArgs } from "node:util";
import { deviceLogin } from "../auth/device-login.js";
import { defaultStateDir, normalizeServer } from "../auth/state-dir.js";
import { type Command, UsageError } from "../command.js";

const OPTIONS = { server: { type: "string" }, state: { type: "string" } } as const;

/** `ignis login --server URL [--state DIR]`: signs in with the device-code flow and saves the tokens. */
export const command: Command = {
  path: ["login"],
  summary: "sign in to a server (device code in a browser)",
  usage: "usage: ignis login --server URL [--state DIR]",
  options: OPTIONS,
  actions: [],
  async run(argv) {
    const { values } = parseFlags(argv);
    if (!values.server) throw new UsageError("--server is required");
    const server = normalizeServer(values.server);
    const login = await deviceLogin({
      server,
      stateDir: values.state ?? defaultStateDir(),
      prompt: (p) => {
        process.stdout.write(
          `To sign in, open ${p.verificationUri}\nand enter the code: ${p.userCode}\n` +
            (p.verificationUriComplete ? `(or open ${p.verificationUriComplete})\n` : "") +
            `Waiting for approval (the code expires in ${Math.round(p.expiresInSeconds / 60)} minutes)...\n`,
        );
      },
    });
    process.stdout.write(`Signed in to ${server}${login.email ? ` as ${login.email}` : ""}.\n`);
    return 0;
  },
};

function parseFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
