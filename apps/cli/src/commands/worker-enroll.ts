import { parseArgs } from "node:util";
import { defaultStateDir } from "../auth/state-dir.js";
import { type Command, UsageError } from "../command.js";
import { enrollDevice } from "../worker/enroll.js";

const OPTIONS = {
  server: { type: "string" },
  code: { type: "string" },
  state: { type: "string" },
  profile: { type: "string" },
} as const;

/** `ignis worker enroll`: makes the device key here, enrolls, prints the device id on the last line. */
export const command: Command = {
  path: ["worker", "enroll"],
  summary: "enroll this machine (or a simulated profile) as a device",
  usage:
    "usage: ignis worker enroll --server URL --code CODE [--state DIR] [--profile NAME]\n" +
    "  --code     a single-use enrollment code (POST /v1/enrollment-codes), valid 15 minutes\n" +
    "  --state    where the device key (mode 0600) and state live; default ~/.config/ignis\n" +
    "  --profile  a simulated hardware profile (sim-a100, sim-h100, sim-rtx4090, sim-m3max, sim-cpu)",
  options: OPTIONS,
  actions: [],
  async run(argv) {
    const { values } = parse(argv);
    if (!values.server) throw new UsageError("--server is required");
    if (!values.code) throw new UsageError("--code is required");
    const stateDir = values.state ?? defaultStateDir();
    process.stdout.write(
      values.profile
        ? `Enrolling a simulated ${values.profile}...\n`
        : "Detecting hardware and enrolling...\n",
    );
    const { deviceId } = await enrollDevice({
      server: values.server,
      code: values.code,
      stateDir,
      profile: values.profile,
    });
    process.stdout.write(
      `Enrolled. Key and state are in ${stateDir}; start it with: ignis worker run --state ${stateDir}\n`,
    );
    process.stdout.write(`${deviceId}\n`);
    return 0;
  },
};

function parse(argv: string[]) {
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
