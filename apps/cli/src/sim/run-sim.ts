import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startChildFleet } from "./child-fleet.js";
import {
  type Fleet,
  type FleetDevice,
  type FleetSnapshot,
  type FleetSpec,
  startFleet,
  sumSnapshots,
} from "./fleet.js";
import {
  countServerView,
  readServerDevices,
  type ServerDeviceState,
  type ServerView,
} from "./fleet-status.js";
import { startProgressDisplay } from "./progress-display.js";
import type { SimLie, SimOptions } from "./sim-options.js";
import { explainProblems, judgeRun, type SimVerdict } from "./sim-verdict.js";
import { resolveSimSupplier } from "./supplier-key.js";

/** What a simulation did, as printed at the end (and as `--json` prints it). */
export interface SimSummary {
  supplierUserId: string;
  supplierCreated: boolean;
  profile: string;
  devices: number;
  counterfeit: number;
  /** How many times slower than claimed the counterfeits computed. */
  overclaim: number;
  /** What the counterfeits lied about. */
  lie: SimLie;
  processes: number;
  seconds: number;
  fleet: FleetSnapshot;
  /** Failed proof verdicts the devices were told of, by reason, for honest devices and counterfeits apart. */
  proofFailures: { honest: Record<string, number>; counterfeit: Record<string, number> };
  server: ServerView | { error: string };
  /** Whether the run was honest; absent when the server's view could not be read (the run is not judged). */
  verdict?: SimVerdict;
}

/**
 * Runs a simulation: resolves the supplier, spreads the devices over fleets (this process, or P children),
 * shows progress, and when the duration ends or `signal` aborts, reads the server's view of the devices,
 * stops every device and returns the summary. The last M device indices are the counterfeits.
 * Device state folders live under --state, or in a temporary folder removed at the end.
 */
export async function runSim(options: SimOptions, signal?: AbortSignal): Promise<SimSummary> {
  const started = Date.now();
  const supplier = await resolveSimSupplier(options.servers[0]!, options.apiKey);
  const stateRoot = options.stateDir ?? mkdtempSync(join(tmpdir(), "ignis-sim-"));
  const isCounterfeit = (i: number) => i >= options.devices - options.counterfeit;
  const specs: FleetSpec[] = Array.from({ length: options.processes }, () => ({
    servers: options.servers,
    supplierKey: supplier.apiKey,
    profile: options.profile,
    heartbeatSeconds: options.heartbeatSeconds,
    churnPerMinute: options.churnPerMinute,
    overclaim: options.overclaim,
    stateRoot,
    enrollConcurrency: Math.max(1, Math.ceil(options.enrollConcurrency / options.processes)),
    lie: options.lie,
    devices: [],
  }));
  for (let i = 0; i < options.devices; i++) {
    specs[i % options.processes]!.devices.push({ index: i, counterfeit: isCounterfeit(i) });
  }
  const fleets: Fleet[] = options.processes === 1 ? [startFleet(specs[0]!)] : specs.map(startChildFleet);
  const snapshot = () => sumSnapshots(fleets.map((f) => f.snapshot()));

  const display = startProgressDisplay(options.devices, options.durationSeconds);
  const ticker = setInterval(() => display.update(snapshot()), 250);
  await new Promise<void>((resolve) => {
    const timer = options.durationSeconds ? setTimeout(resolve, options.durationSeconds * 1000) : undefined;
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
  clearInterval(ticker);
  display.update(snapshot());
  display.stop();

  // The server's view is read while the devices are still connected.
  const before = snapshot();
  await Promise.race([Promise.all(fleets.map((f) => f.ready)), new Promise((r) => setTimeout(r, 5_000))]);
  const devices = fleets.flatMap((f) => f.devices());
  let server: SimSummary["server"];
  let states: Map<string, ServerDeviceState> | undefined;
  try {
    states = await readServerDevices(
      options.servers[0]!,
      supplier.apiKey,
      devices.map((d) => d.deviceId),
    );
    server = countServerView(states, new Set(devices.filter((d) => d.counterfeit).map((d) => d.deviceId)));
  } catch (error) {
    server = { error: (error as Error).message };
  }
  await Promise.all(fleets.map((f) => f.stop()));
  if (!options.stateDir) rmSync(stateRoot, { recursive: true, force: true });
  const after = snapshot();
  // Judged on what each device saw by the end (a child fleet's list is final only once it stopped).
  let verdict: SimVerdict | undefined;
  if (states) {
    verdict = judgeRun({
      honestTarget: options.devices - options.counterfeit,
      devices: fleets.flatMap((f) => f.devices()),
      states,
    });
    if (supplier.created) await explainProblems(options.servers[0]!, options.apiKey, verdict);
  }
  return {
    supplierUserId: supplier.userId,
    supplierCreated: supplier.created,
    profile: options.profile,
    devices: options.devices,
    counterfeit: options.counterfeit,
    overclaim: options.overclaim,
    lie: options.lie,
    processes: options.processes,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    // Online is what was online before stopping; the counters are final.
    fleet: { ...after, online: before.online },
    proofFailures: tallyFailures(fleets.flatMap((f) => f.devices())),
    server,
    ...(verdict ? { verdict } : {}),
  };
}

/** Adds up the failed verdicts the devices were told of, by reason, for honest devices and counterfeits. */
export function tallyFailures(devices: readonly FleetDevice[]): SimSummary["proofFailures"] {
  const tally: SimSummary["proofFailures"] = { honest: {}, counterfeit: {} };
  for (const d of devices) {
    const side = d.counterfeit ? tally.counterfeit : tally.honest;
    for (const [reason, n] of Object.entries(d.proofFailures ?? {})) side[reason] = (side[reason] ?? 0) + n;
  }
  return tally;
}
