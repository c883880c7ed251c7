import { parseArgs } from "node:util";
import { defaultStateDir } from "../auth/state-dir.js";
import { type Command, UsageError } from "../command.js";
import { doctorExitCode } from "../doctor/doctor-check.js";
import { doctorTable } from "../doctor/doctor-table.js";
import { runDoctor } from "../doctor/run-doctor.js";

const OPTIONS = {
  server: { type: "string" },
  state: { type: "string" },
  json: { type: "boolean" },
} as const;

/** `ignis doctor [--server URL] [--state DIR] [--json]`: checks that this machine can work as a device. */
export const command: Command = {
  path: ["doctor"],
  summary: "check this machine as a device: server, clock, key, GPU, sandbox, network",
  usage:
    "usage: ignis doctor [--server URL] [--state DIR] [--json]\n" +
    "  checks: server (reachable, release), clock (skew against the server), key (the device key is private),\n" +
    "  gpu (model, VRAM, driver), sandbox (container engine, network fence, job image), network (round trip\n" +
    "  and download speed to the server); prints each with a fix for any problem\n" +
    "  --server defaults to IGNIS_SERVER, then the enrolled device's server; --state to ~/.config/ignis\n" +
    '  --json prints { checks: [{ id, status: "pass"|"warn"|"fail", detail, fix? }] }\n' +
    "  exits 1 when a required check (server, clock, key, sandbox) fails, 0 otherwise; it changes nothing",
  options: OPTIONS,
  actions: [],
  async run(argv) {
    let values: { server?: string; state?: string; json?: boolean };
    try {
      ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const server = values.server ?? process.env.IGNIS_SERVER;
    if (server !== undefined && !/^https?:\/\/[^\s]+$/.test(server)) {
      throw new UsageError(`--server must be an http(s) URL, not '${server}'`);
    }
    const checks = await runDoctor({ stateDir: values.state ?? defaultStateDir(), server });
    process.stdout.write(values.json ? `${JSON.stringify({ checks })}\n` : doctorTable(checks));
    return doctorExitCode(checks);
  },
};
