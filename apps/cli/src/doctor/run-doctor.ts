import type { HardwareClaim, SandboxReport } from "@ignis/protocol";
import { findHardwareProfile } from "@ignis/protocol";
import { detectHardware, simulatedClaim } from "../hardware/detect.js";
import type { CommandRunner } from "../jobs/sandbox/exec.js";
import type { LinkMeasureOptions } from "../worker/link-measure.js";
import { readDeviceState } from "../worker/worker-state.js";
import { CHECK_IDS, type DoctorCheck } from "./doctor-check.js";
import { gpuCheck } from "./gpu-check.js";
import { keyCheck } from "./key-check.js";
import { networkCheck } from "./network-check.js";
import { sandboxCheck, sandboxCheckFromReport } from "./sandbox-check.js";
import { clockCheck, serverCheck } from "./server-checks.js";
import { probeServer } from "./server-probe.js";

/** What the checks look at; the worker passes what it already found so nothing is detected twice. */
export interface DoctorOptions {
  stateDir: string;
  /** The server to check; without one, the enrolled device's. */
  server?: string | undefined;
  /** The hardware claim already made (the worker's); detected here otherwise. */
  claim?: HardwareClaim;
  /** The sandbox the worker opened (its test job included); checked read-only here otherwise. */
  sandbox?: SandboxReport;
  /** Bounds of the network measurement; its `signal` also stops the server probe. */
  link?: LinkMeasureOptions;
  run?: CommandRunner;
}

/**
 * Runs every check of `ignis doctor` (server, clock, key, gpu, sandbox, network) and returns them in that order.
 * Reads and measures only: it writes no file and starts no container.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const { stateDir } = options;
  let state: ReturnType<typeof readDeviceState>;
  try {
    state = readDeviceState(stateDir);
  } catch {
    state = undefined; // the key check says what is wrong with it
  }
  const server = (options.server ?? state?.server)?.split(",")[0]?.trim() || undefined;
  const remote = (async () => {
    const probe = server ? await probeServer(server, { signal: options.link?.signal }) : undefined;
    const reachable = probe?.reachable === true && probe.httpStatus === 200;
    return [
      serverCheck(server, probe),
      clockCheck(probe),
      await networkCheck(server, reachable, options.link),
    ];
  })();
  const local = (async () => {
    const claim = options.claim ?? (await localClaim(stateDir, state?.profile));
    const sandbox = options.sandbox
      ? sandboxCheckFromReport(options.sandbox)
      : await sandboxCheck(stateDir, claim.gpu.vendor, options.run);
    return [keyCheck(stateDir), gpuCheck(claim), sandbox];
  })();
  const checks = [...(await remote), ...(await local)];
  return CHECK_IDS.map((id) => checks.find((c) => c.id === id)!);
}

/** A simulated device's profile claim, or this machine's detected hardware. */
async function localClaim(stateDir: string, profile: string | undefined): Promise<HardwareClaim> {
  if (profile && findHardwareProfile(profile)?.simulated) return simulatedClaim(profile);
  return detectHardware({ stateDir });
}
