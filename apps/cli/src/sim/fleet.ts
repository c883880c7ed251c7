import { join } from "node:path";
import { readDeviceState } from "../worker/worker-state.js";
import { enrollSimDevice, runSimDevice, type SimDevice, type SimProofFailure } from "./sim-device.js";
import type { SimLie } from "./sim-options.js";

/** The devices one process runs, and how. Indices are global across processes, so state folders never clash. */
export interface FleetSpec {
  servers: string[];
  supplierKey: string;
  profile: string;
  heartbeatSeconds: number | undefined;
  churnPerMinute: number;
  /** How many times slower than claimed the counterfeits compute (COUNTERFEIT_SLOWDOWN when absent). */
  overclaim?: number | undefined;
  stateRoot: string;
  enrollConcurrency: number;
  /** What the counterfeits lie about; speed when absent. */
  lie?: SimLie;
  devices: Array<{ index: number; counterfeit: boolean }>;
}

/** Counts of one fleet (or of several, summed), as the progress display and the summary show them. */
export interface FleetSnapshot {
  target: number;
  enrolled: number;
  enrollFailures: number;
  online: number;
  counterfeit: number;
  heartbeats: number;
  sessions: number;
  churns: number;
  errors: number;
  stoppedByServer: number;
  lastError: string | undefined;
}

/** One device of a fleet, as the summary needs it. */
export interface FleetDevice {
  /** The device's index in the spec (its state folder is `device-<index>`; it starts on servers[index mod n]). */
  index: number;
  deviceId: string;
  counterfeit: boolean;
  /** True once any of its sessions was authenticated. */
  everOnline: boolean;
  /** The latest failed proof verdict its worker was told of (null after a later pass). */
  proofFailure: SimProofFailure | null;
  /** The last error line its worker logged. */
  lastError: string | null;
  /** How many failed proof verdicts it was told of, by reason. */
  proofFailures: Record<string, number>;
}

/** A fleet of simulated devices running in this process. */
export interface Fleet {
  snapshot(): FleetSnapshot;
  /** The devices enrolled and started so far. */
  devices(): FleetDevice[];
  /** Resolves when every device has been enrolled (or failed to) and started. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** Adds snapshots of several fleets (child processes) into one. */
export function sumSnapshots(parts: FleetSnapshot[]): FleetSnapshot {
  const total: FleetSnapshot = {
    target: 0,
    enrolled: 0,
    enrollFailures: 0,
    online: 0,
    counterfeit: 0,
    heartbeats: 0,
    sessions: 0,
    churns: 0,
    errors: 0,
    stoppedByServer: 0,
    lastError: undefined,
  };
  for (const p of parts) {
    for (const key of Object.keys(total) as Array<keyof FleetSnapshot>) {
      if (key !== "lastError") total[key] += p[key] as number;
    }
    total.lastError = p.lastError ?? total.lastError;
  }
  return total;
}

/**
 * Enrolls (with bounded concurrency) and runs the devices of a spec: each device starts as soon as it is
 * enrolled, device i connects to servers[i mod n], and a churn tick drops random sessions for 1–10 s.
 * A state folder that already holds a device is reused instead of enrolled again.
 */
export function startFleet(spec: FleetSpec): Fleet {
  const running: SimDevice[] = [];
  const indexOf = new Map<SimDevice, number>();
  let enrollFailures = 0;
  let lastError: string | undefined;
  let stopping = false;
  const queue = [...spec.devices];

  const enrollOne = async ({ index, counterfeit }: { index: number; counterfeit: boolean }) => {
    const stateDir = join(spec.stateRoot, `device-${index}`);
    // Device i starts on servers[i mod n] and fails over to the others in turn.
    const first = index % spec.servers.length;
    const servers = [...spec.servers.slice(first), ...spec.servers.slice(0, first)];
    const server = servers[0]!;
    try {
      const deviceId =
        readDeviceState(stateDir)?.deviceId ??
        (await enrollSimDevice({ server, supplierKey: spec.supplierKey, stateDir, profile: spec.profile }));
      if (stopping) return;
      const device = runSimDevice({
        stateDir,
        deviceId,
        server: servers.join(","),
        profile: spec.profile,
        counterfeit,
        overclaim: spec.overclaim,
        lie: spec.lie ?? "speed",
        heartbeatSeconds: spec.heartbeatSeconds,
      });
      indexOf.set(device, index);
      running.push(device);
    } catch (error) {
      enrollFailures++;
      lastError = `enroll: ${(error as Error).message}`;
    }
  };
  const lane = async () => {
    for (let next = queue.shift(); next && !stopping; next = queue.shift()) await enrollOne(next);
  };
  const ready = Promise.all(Array.from({ length: Math.max(1, spec.enrollConcurrency) }, lane)).then(
    () => undefined,
  );

  const churnTick =
    spec.churnPerMinute > 0
      ? setInterval(() => {
          for (const device of running) {
            if (Math.random() < spec.churnPerMinute / 60) device.churn(1000 + Math.random() * 9000);
          }
        }, 1000)
      : undefined;

  return {
    ready,
    devices: () =>
      running.map((d) => ({
        index: indexOf.get(d)!,
        deviceId: d.deviceId,
        counterfeit: d.counterfeit,
        everOnline: d.everOnline(),
        proofFailure: d.proofFailure() ?? null,
        lastError: d.lastError() ?? null,
        proofFailures: d.proofFailures(),
      })),
    snapshot() {
      const snap: FleetSnapshot = {
        target: spec.devices.length,
        enrolled: running.length,
        enrollFailures,
        online: 0,
        counterfeit: 0,
        heartbeats: 0,
        sessions: 0,
        churns: 0,
        errors: 0,
        stoppedByServer: 0,
        lastError,
      };
      for (const d of running) {
        const c = d.counters();
        if (d.online()) snap.online++;
        if (d.counterfeit) snap.counterfeit++;
        if (d.exit()) snap.stoppedByServer++;
        snap.heartbeats += c.heartbeats;
        snap.sessions += c.sessions;
        snap.churns += c.churns;
        snap.errors += c.errors;
        snap.lastError = d.lastError() ?? snap.lastError;
      }
      return snap;
    },
    async stop() {
      stopping = true;
      clearInterval(churnTick);
      await ready;
      await Promise.all(running.map((d) => d.stop()));
    },
  };
}
