import { parseArgs } from "node:util";
import { WhoAmI } from "@ignis/protocol";
import { apiRequest } from "../api-client.js";
import { resolveCredential } from "../auth/resolve-credential.js";
import { type Command, UsageError } from "../command.js";

const OPTIONS = {
  server: { type: "string" },
  "api-key": { type: "string" },
  state: { type: "string" },
  json: { type: "boolean" },
} as const;

/** `ignis whoami [--server URL] [--api-key KEY] [--state DIR] [--json]`: shows who the API sees. */
export const command: Command = {
  path: ["whoami"],
  summary: "show the signed-in user (GET /v1/me)",
  usage: "usage: ignis whoami [--server URL] [--api-key KEY] [--state DIR] [--json]",
  options: OPTIONS,
  actions: [],
  async run(argv) {
    let values: { server?: string; "api-key"?: string; state?: string; json?: boolean };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: OPTIONS,
        strict: true,
      }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const credential = await resolveCredential({
      server: values.server,
      apiKey: values["api-key"],
      stateDir: values.state,
    });
    const me = WhoAmI.parse(
      await apiRequest<unknown>(credential.server, "v1/me", { token: credential.token }),
    );
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...me, server: credential.server })}\n`);
      return 0;
    }
    process.stdout.write(
      `id: ${me.id}\nemail: ${me.email ?? "-"}\nroles: ${me.roles.join(", ") || "-"}\n` +
        `credential: ${me.credential}\nserver: ${credential.server}\n`,
    );
    return 0;
  },
};
