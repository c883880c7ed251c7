import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultStateDir } from "../auth/state-dir.js";
import { type Command, UsageError } from "../command.js";
import { readUpdateSettings, trustedReleaseKey, updateSettingsPath } from "../worker/update/release-key.js";
import { UpdateRefused } from "../worker/update/release-verify.js";
import { updateWorker } from "../worker/update/self-update.js";
import { WORKER_RELEASE } from "../worker/worker-release.js";
import { writePrivateFile } from "../worker/worker-state.js";

/** Exit codes of `ignis worker update`. */
export const UPDATE_EXIT = { switched: 0, rolledBack: 4, refused: 5 } as const;

const OPTIONS = {
  state: { type: "string" },
  version: { type: "string" },
  package: { type: "string" },
  signature: { type: "string" },
  sha256: { type: "string" },
  "install-dir": { type: "string" },
  "release-key": { type: "string" },
  "online-within": { type: "string" },
  auto: { type: "boolean" },
  manual: { type: "boolean" },
} as const;

/** `ignis worker update`: installs a signed worker release beside the running one, or turns automatic updates on. */
export const command: Command = {
  path: ["worker", "update"],
  summary: "install a signed worker release (rolls back if it does not come online)",
  usage:
    "usage: ignis worker update --version V --package PATH|URL --signature SIG|@FILE [--sha256 HEX]\n" +
    "                           [--state DIR] [--install-dir DIR] [--release-key KEY] [--online-within S]\n" +
    "       ignis worker update --auto | --manual [--state DIR]\n" +
    "  (a SIG that starts with '-' is given as --signature=SIG)\n" +
    "  the package must be signed by the release key pinned in this worker (or --release-key / releaseKey in\n" +
    "  <state>/update.json, set by you only); it is installed in <install-dir>/versions/V (default\n" +
    "  <state>/releases) beside the running release; a running worker is stopped, V is started, and if V is not\n" +
    "  online within --online-within seconds (default 120) the previous release is restored and started again.\n" +
    "  --auto: a running worker installs the releases the server offers in a staged rollout by itself.\n" +
    "  (--manual turns that off again); exits 0 when switched, 4 when rolled back, 5 when refused (nothing installed)",
  options: OPTIONS,
  actions: [],
  async run(argv) {
    const { values } = parse(argv);
    const stateDir = values.state ?? defaultStateDir();
    const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    if (values.auto || values.manual) {
      if (values.auto && values.manual) throw new UsageError("--auto and --manual exclude each other");
      const settings = { ...readUpdateSettings(stateDir), auto: Boolean(values.auto) };
      writePrivateFile(updateSettingsPath(stateDir), `${JSON.stringify(settings, null, 2)}\n`);
      log(
        `automatic updates ${values.auto ? "on" : "off"} (${updateSettingsPath(stateDir)}); a running worker reads it at the next offer`,
      );
      return 0;
    }
    if (!values.version || !values.package || !values.signature) {
      throw new UsageError("--version, --package and --signature are required");
    }
    const signature = values.signature.startsWith("@")
      ? readFileSync(values.signature.slice(1), "utf8").trim()
      : values.signature;
    const settings = readUpdateSettings(stateDir);
    const seconds = values["online-within"] ? Number(values["online-within"]) : settings.onlineWithinSeconds;
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError("--online-within takes seconds");
    try {
      const result = await updateWorker(
        { version: values.version, package: values.package, signature, sha256: values.sha256 },
        {
          stateDir,
          installDir: values["install-dir"] ?? join(stateDir, "releases"),
          releaseKey: trustedReleaseKey(stateDir, values["release-key"]),
          onlineWithinMs: seconds * 1000,
          runningRelease: WORKER_RELEASE,
          launcher: { node: process.execPath, script: process.argv[1] ?? "" },
          log,
        },
      );
      if (result.outcome === "rolled_back") {
        log(`rolled back to ${result.from}: ${result.reason}`);
        return UPDATE_EXIT.rolledBack;
      }
      log(`now on ${result.to} (was ${result.from})`);
      return UPDATE_EXIT.switched;
    } catch (error) {
      if (!(error instanceof UpdateRefused)) throw error;
      log(`refused (${error.code}): ${error.message}; nothing was installed`);
      return UPDATE_EXIT.refused;
    }
  },
};

/** Parses `ignis worker update`'s arguments (exported for the auto-updater's test). */
export function parse(argv: string[]) {
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
