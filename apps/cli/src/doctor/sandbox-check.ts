import { join } from "node:path";
import type { SandboxReport } from "@ignis/protocol";
import type { CommandRunner } from "../jobs/sandbox/exec.js";
import { readSandboxConfig } from "../jobs/sandbox/sandbox-config.js";
import { sandboxReadiness } from "../jobs/sandbox/sandbox-readiness.js";
import { type DoctorCheck, fail, pass, warn } from "./doctor-check.js";

/**
 * The `sandbox` check: the container engine and the rest of the job sandbox (sandbox-readiness.ts), read-only.
 * The test job that proves the whole sandbox runs when the worker starts, not here: it would sweep the
 * containers of a worker running beside this command.
 */
export async function sandboxCheck(
  stateDir: string,
  gpuVendor: string,
  run?: CommandRunner,
): Promise<DoctorCheck> {
  let config: ReturnType<typeof readSandboxConfig>;
  try {
    config = readSandboxConfig(stateDir);
  } catch (error) {
    return fail(
      "sandbox",
      (error as Error).message.slice(0, 300),
      `correct ${join(stateDir, "sandbox.json")} or remove it to use the defaults`,
    );
  }
  const ready = await sandboxReadiness(config, gpuVendor, run);
  if (!ready.ready) {
    return fail(
      "sandbox",
      `jobs cannot run in a container: ${ready.problem}`,
      `${ready.fix} (until then the device is not hired)`,
    );
  }
  const { engine } = ready;
  return pass(
    "sandbox",
    `${engine.kind} ${engine.version} with ${engine.runtime}${engine.rootless ? " (rootless)" : ""}, ` +
      `network fence ${ready.fenceTool}, job image ${config.jobImage}`,
  );
}

/** The `sandbox` check from what `ignis worker run` found when it opened its sandbox (test job included). */
export function sandboxCheckFromReport(report: SandboxReport): DoctorCheck {
  if (report.kind === "container") {
    return pass(
      "sandbox",
      `${report.engine} ${report.version} with ${report.runtime}${report.rootless ? " (rootless)" : ""}; a test job ran`,
    );
  }
  if (report.kind === "unsafe-subprocess") {
    return warn("sandbox", report.message, "drop --unsafe-subprocess-jobs once a container engine works");
  }
  return fail(
    "sandbox",
    `jobs cannot run in a container: ${report.message}`,
    "see the detail; the device is not hired until it works",
  );
}
