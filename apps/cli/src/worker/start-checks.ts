import type { HardwareClaim, SandboxReport } from "@ignis/protocol";
import { runDoctor } from "../doctor/run-doctor.js";

/** A smaller network measurement than `ignis doctor`'s: the worker repeats it at every start. */
const START_LINK = { pings: 3, maxBytes: 1024 * 1024, maxMs: 2000 };

/**
 * Runs the checks of `ignis doctor` beside a starting worker, from what the worker already found (its hardware
 * claim and its opened sandbox), and logs one line per check with its fix. It never blocks or stops the worker:
 * a failure is logged like a warning. `signal` cuts the measurement short when the worker stops.
 */
export async function logStartChecks(options: {
  stateDir: string;
  server: string;
  claim: HardwareClaim;
  sandbox: SandboxReport;
  log: (line: string) => void;
  signal: AbortSignal;
}): Promise<void> {
  const { log, signal } = options;
  try {
    const checks = await runDoctor({
      stateDir: options.stateDir,
      server: options.server,
      claim: options.claim,
      sandbox: options.sandbox,
      link: { ...START_LINK, signal },
    });
    for (const c of checks) {
      log(`doctor ${c.id}: ${c.status} - ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ""}`);
    }
  } catch (error) {
    if (!signal.aborted) log(`doctor: the start checks broke off: ${(error as Error).message}`);
  }
}
