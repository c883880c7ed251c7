import type { HardwareClaim, SandboxReport } from "@ignis/protocol";
import { findHardwareProfile } from "@ignis/protocol";
import { hardwareClaim } from "../hardware/detect.js";
import { readDeviceState } from "../worker/worker-state.js";
import type { JobRuntimeChoice } from "./job-runtime.js";
import type { LimitCaps } from "./limits.js";
import { meshSupport } from "./mesh/mesh-support.js";
import { openSandbox } from "./sandbox/open-sandbox.js";
import { readSandboxConfig, SandboxConfig } from "./sandbox/sandbox-config.js";
import { createUnsafeSubprocessRuntime } from "./subprocess-runtime.js";

/** The job flags of `ignis worker run`; each overrides `<state>/sandbox.json`. */
export interface WorkerJobFlags {
  jobImage?: string | undefined;
  engine?: string | undefined;
  runtime?: string | undefined;
  allowNetwork?: string[] | undefined;
  /** Developer machines only: run jobs as plain subprocesses, no sandbox. */
  unsafeSubprocessJobs?: boolean | undefined;
}

/** What `ignis worker run` hands the worker: its job runtime, the caps, and the metadata with the sandbox report. */
export interface WorkerJobs {
  jobs: JobRuntimeChoice;
  jobCaps: LimitCaps;
  metadata: HardwareClaim;
  report: SandboxReport;
}

const UNSAFE_BANNER = [
  "!!! --unsafe-subprocess-jobs: jobs run as plain subprocesses of this worker, WITHOUT ANY SANDBOX.",
  "!!! A job can read this device's key, the worker's environment and every file this user can read,",
  "!!! see every process and reach every service on this machine and its network.",
  "!!! The device shows as unsafe-subprocess and is hired only by customers who ask for unsandboxed devices.",
];

/** The sandbox report of a worker that is still checking its sandbox: it is not hired until the check ends. */
export const SANDBOX_CHECKING: SandboxReport = {
  kind: "unavailable",
  reason: "sandbox_unavailable",
  message:
    "the worker is checking its sandbox (it runs a test job); the device is hired once the check passes",
};

/** What the worker knows at once: its enrolled state, its sandbox settings and its hardware claim. */
export interface WorkerSetup {
  stateDir: string;
  deviceId: string;
  config: SandboxConfig;
  claim: HardwareClaim;
  /** The claim to announce while the sandbox is checked (not hireable until then). */
  checkingMetadata: HardwareClaim;
}

/** Reads the enrolled device, its sandbox settings (flags over `<state>/sandbox.json`) and its hardware claim. */
export async function readWorkerSetup(options: {
  stateDir: string;
  flags: WorkerJobFlags;
}): Promise<WorkerSetup> {
  const { stateDir, flags } = options;
  const state = readDeviceState(stateDir);
  if (!state) throw new Error(`no enrolled device in ${stateDir}; run \`ignis worker enroll\` first`);
  const file = readSandboxConfig(stateDir);
  const config = SandboxConfig.parse({
    ...file,
    ...(flags.jobImage ? { jobImage: flags.jobImage } : {}),
    ...(flags.engine ? { engine: flags.engine } : {}),
    ...(flags.runtime ? { runtime: flags.runtime } : {}),
    ...(flags.allowNetwork?.length ? { allowNetworks: [...file.allowNetworks, ...flags.allowNetwork] } : {}),
  });
  const simulated = findHardwareProfile(state.profile)?.simulated === true;
  const claim = await hardwareClaim({ profile: simulated ? state.profile : undefined, stateDir });
  return {
    stateDir,
    deviceId: state.deviceId,
    config,
    claim,
    checkingMetadata: {
      ...claim,
      sandbox: SANDBOX_CHECKING,
      mesh: { kind: "unavailable", message: "the worker is checking its sandbox" },
    },
  };
}

/**
 * Sets up how `ignis worker run` runs jobs: the container sandbox (checked with a test job) or, only with
 * `--unsafe-subprocess-jobs`, plain subprocesses announced loudly. Without a working sandbox the worker still
 * connects, says why in its log and reports `sandbox_unavailable`, so the device is not hired. `ignis worker run`
 * connects first and runs this beside the session (readWorkerSetup gives what it announces meanwhile), so a
 * restarted worker is back online in about a second however long the test job takes.
 */
export async function prepareWorkerJobs(options: {
  stateDir: string;
  flags: WorkerJobFlags;
  log: (line: string) => void;
  /** What readWorkerSetup already read, to not read it twice. */
  setup?: WorkerSetup;
}): Promise<WorkerJobs> {
  const { flags, log } = options;
  const { stateDir, deviceId, config, claim } =
    options.setup ?? (await readWorkerSetup({ stateDir: options.stateDir, flags }));
  let jobs: JobRuntimeChoice;
  let report: SandboxReport;
  if (flags.unsafeSubprocessJobs) {
    for (const line of UNSAFE_BANNER) log(line);
    jobs = createUnsafeSubprocessRuntime();
    report = {
      kind: "unsafe-subprocess",
      reason: "unsafe_subprocess_jobs",
      message: "the worker runs jobs without a sandbox (--unsafe-subprocess-jobs)",
    };
  } else {
    const opened = await openSandbox({
      stateDir,
      deviceId,
      config,
      gpuVendor: claim.gpu.vendor,
      log,
    });
    jobs = opened.runtime;
    report = opened.report;
    if (report.kind === "container") {
      log(
        `sandbox: ${report.engine} ${report.version} with ${report.runtime}${report.rootless ? " (rootless)" : ""}`,
      );
    } else if (report.kind === "unavailable") {
      log(`sandbox unavailable: ${report.message}`);
      log("this device runs no jobs and is not hired until the sandbox works (reason sandbox_unavailable)");
    }
  }
  // The overlay needs the container sandbox; a device that cannot join one is still hired, without an overlay.
  const mesh = await meshSupport(report);
  log(
    mesh.kind === "nebula"
      ? `cluster overlay: nebula ${mesh.version}`
      : `cluster overlay unavailable: ${mesh.message}`,
  );
  return { jobs, jobCaps: config.limits, metadata: { ...claim, sandbox: report, mesh }, report };
}
