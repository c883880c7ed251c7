import { parseArgs } from "node:util";
import { signOut } from "../auth/sign-out.js";
import { defaultStateDir, normalizeServer } from "../auth/state-dir.js";
import { type Command, UsageError } from "../command.js";

const OPTIONS = { server: { type: "string" }, state: { type: "string" } } as const;

/** `ignis logout [--server URL] [--state DIR]`: revokes and deletes the saved login. */
export const command: Command = {
  path: ["logout"],
  summary: "sign out: revoke and delete the saved login",
  usage: "usage: ignis logout [--server URL] [--state DIR]",
  options: OPTIONS,
  actions: [],
  async run(argv) {
    let values: { server?: string | undefined; state?: string | undefined };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: OPTIONS,
        strict: true,
      }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const result = await signOut(
      values.state ?? defaultStateDir(),
      values.server ? normalizeServer(values.server) : undefined,
    );
    if (!result.server) {
      process.stdout.write("Not logged in.\n");
      return 0;
    }
    process.stdout.write(
      `Signed out of ${result.server}${result.revoked ? "" : " (the server could not be told; the saved tokens are deleted)"}.\n`,
    );
    return 0;
  },
};
