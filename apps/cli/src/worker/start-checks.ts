import type { HardwareClaim, SandboxReport } from "@ignis/protocol";
import { runDoctor } from "../doctor/run-doctor.js";

/** A smaller network measurement than `ignis doctor`'s: the worker repeats it at every start. */
const START_LINK = { pings: 3, maxBytes: 1024 * 1024, maxMs: 2000 };

/** How long the checks wait for the first session before they run anyway (a server that never answers). */
const WAIT_FOR_SESSION_MS = 10_000;

/**
 * Runs the checks of `ignis doctor` beside a starting worker, from what the worker already found (its hardware
 * claim and its opened sandbox), and logs one line per check with its fix. They wait for the first session (or
 * WAIT_FOR_SESSION_MS), so the link measurement does not compete with the handshake. They never block or stop the
 * worker: a failure is logged like a warning. `signal` cuts them short when the worker stops.
 */
export async function logStartChecks(options: {
  stateDir: string;
  server: string;
  claim: HardwareClaim;
  sandbox: SandboxReport;
  log: (line: string) => void;
  signal: AbortSignal;
  /** Settles when the worker's first session is up. */
  connected: Promise<unknown>;
}): Promise<void> {
  const { log, signal } = options;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    options.connected.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, WAIT_FOR_SESSION_MS);
    }),
    new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true })),
  ]);
  clearTimeout(timer);
  if (signal.aborted) return;
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
