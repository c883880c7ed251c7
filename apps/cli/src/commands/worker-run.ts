import { parseArgs } from "node:util";
import { defaultStateDir } from "../auth/state-dir.js";
import { type Command, UsageError } from "../command.js";
import { noJobRuntime } from "../jobs/job-runtime.js";
import { prepareWorkerJobs, readWorkerSetup } from "../jobs/worker-jobs.js";
import { logStartChecks } from "../worker/start-checks.js";
import { createAutoUpdate } from "../worker/update/auto-update.js";
import { clearRunningWorker, writeOnline, writeRunningWorker } from "../worker/update/worker-process.js";
import { startWorker } from "../worker/worker-agent.js";
import { WORKER_RELEASE } from "../worker/worker-release.js";
import { readDeviceState } from "../worker/worker-state.js";

/** Exit codes of `ignis worker run` a supervisor can act on. */
export const WORKER_EXIT = { stopped: 0, revoked: 3 } as const;

const OPTIONS = {
  state: { type: "string" },
  server: { type: "string" },
  "job-image": { type: "string" },
  engine: { type: "string" },
  runtime: { type: "string" },
  "allow-network": { type: "string", multiple: true },
  "unsafe-subprocess-jobs": { type: "boolean" },
  "as-release": { type: "string" },
} as const;

/** `ignis worker run`: connects, heartbeats, answers proof challenges, runs jobs, reconnects on its own. */
export const command: Command = {
  path: ["worker", "run"],
  summary: "run the enrolled device: session, heartbeats, proofs, jobs",
  usage:
    "usage: ignis worker run [--state DIR] [--server URL[,URL...]] [--job-image IMAGE] [--engine podman|docker]\n" +
    "                        [--runtime runc|crun] [--allow-network CIDR ...] [--unsafe-subprocess-jobs]\n" +
    "  --server overrides the enrollment server; with several, each reconnect tries the next\n" +
    "  jobs run in containers (podman or docker, see <state>/sandbox.json); --job-image is the image of jobs\n" +
    "  that name none (make one offline with `ignis worker image build`); --allow-network lets jobs reach a\n" +
    "  private range; --unsafe-subprocess-jobs (developers only) runs jobs with NO sandbox\n" +
    "  writes <state>/worker.pid and, at each accepted session, <state>/worker-online.json (ignis worker update\n" +
    "  reads them); --as-release V announces release V (packaging tests)\n" +
    "  at start it runs the checks of `ignis doctor` and logs them (they never stop it)\n" +
    "  exits 0 on SIGINT/SIGTERM, 3 when the device was revoked during a session; any other refusal is logged\n" +
    "  and retried with backoff",
  options: OPTIONS,
  actions: [],
  async run(argv) {
    const { values } = parse(argv);
    const stateDir = values.state ?? defaultStateDir();
    const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    const flags = {
      jobImage: values["job-image"],
      engine: values.engine,
      runtime: values.runtime,
      allowNetwork: values["allow-network"],
      unsafeSubprocessJobs: values["unsafe-subprocess-jobs"],
    };
    // Connect at once and check the sandbox beside the session (its test job takes seconds): a restarted worker
    // earns again within about a second, and is hired once the check has passed (until then it announces
    // SANDBOX_CHECKING, and job orders wait for the check).
    const setup = await readWorkerSetup({ stateDir, flags });
    const checked = prepareWorkerJobs({ stateDir, flags, log, setup });
    const release = values["as-release"] ?? WORKER_RELEASE;
    const server = values.server ?? readDeviceState(stateDir)?.server ?? "";
    const auto = createAutoUpdate({
      stateDir,
      server: () => server.split(",")[0]!.trim(),
      launcher: { node: process.execPath, script: process.argv[1] ?? "" },
      log,
    });
    const worker = startWorker({
      stateDir,
      log,
      workerVersion: release,
      autoUpdate: () => auto.enabled(),
      onMessage(message) {
        if (message.type === "session.hello") {
          writeOnline(stateDir, { pid: process.pid, version: release, at: new Date().toISOString() });
        } else if (message.type === "worker.update-available") {
          auto.offered(message);
        }
      },
      jobs: checked.then(
        (jobs) => jobs.jobs,
        (error: unknown) => noJobRuntime(`the sandbox check failed: ${(error as Error).message}`),
      ),
      jobCaps: setup.config.limits,
      metadata: setup.checkingMetadata,
      ...(values.server ? { server: values.server } : {}),
    });
    writeRunningWorker(stateDir, { pid: process.pid, version: release, args: restartArgs(argv) });
    log(`device ${worker.deviceId}: connecting as release ${release}`);
    const checksDone = new AbortController();
    const checks = checked.then(
      (jobs) => {
        worker.setMetadata(jobs.metadata);
        return logStartChecks({
          stateDir,
          server: server.split(",")[0]!.trim(),
          claim: jobs.metadata,
          sandbox: jobs.report,
          log,
          signal: checksDone.signal,
          connected: worker.connected,
        });
      },
      (error: unknown) => {
        // The device stays announced as checking its sandbox, so it is never hired without one.
        log(
          `sandbox check failed: ${(error as Error).message}; this device runs no jobs until the worker restarts`,
        );
      },
    );
    const stop = () => void worker.stop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    const exit = await worker.done;
    checksDone.abort();
    await checks;
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    clearRunningWorker(stateDir, process.pid);
    if (exit.reason !== "stopped") log(`stopped: ${exit.message}`);
    return WORKER_EXIT[exit.reason];
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

/** The flags a restarted release gets: these, without the state folder (given anew) and the announced release. */
function restartArgs(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--state" || arg === "--as-release") i++;
    else if (!arg.startsWith("--state=") && !arg.startsWith("--as-release=")) out.push(arg);
  }
  return out;
}
