import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Fleet, FleetDevice, FleetSnapshot, FleetSpec } from "./fleet.js";

/** Messages from a fleet child process to its parent. */
export type ChildReport =
  | { type: "snapshot"; snapshot: FleetSnapshot }
  | { type: "ready" | "stopped"; snapshot: FleetSnapshot; devices: FleetDevice[] };

/** Messages from the parent to a fleet child process. */
export type ParentCommand = { type: "start"; spec: FleetSpec } | { type: "stop" };

// From the sources the child is TypeScript run through tsx; in the packed CLI (scripts/pack-worker.ts) this
// module is bundled JavaScript with fleet-child.js beside it, and no tsx is installed.
const FROM_SOURCES = import.meta.url.endsWith(".ts");
const CHILD_ENTRY = fileURLToPath(
  new URL(FROM_SOURCES ? "./fleet-child.ts" : "./fleet-child.js", import.meta.url),
);

const emptySnapshot = (target: number): FleetSnapshot => ({
  target,
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
});

/**
 * Runs a fleet in a forked process (`--processes P`), for fleets one event loop cannot drive: the child
 * reports its counts twice a second over IPC, and its device list once all are enrolled and again on stop.
 */
export function startChildFleet(spec: FleetSpec): Fleet {
  const child = fork(CHILD_ENTRY, [], {
    execArgv: FROM_SOURCES ? ["--import", "tsx"] : [],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  let latest = emptySnapshot(spec.devices.length);
  let devices: FleetDevice[] = [];
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code) => {
      if (code !== 0 && !latest.lastError) latest = { ...latest, lastError: `sim child exited with ${code}` };
      markReady();
      resolve();
    });
  });
  child.on("message", (raw) => {
    const report = raw as ChildReport;
    latest = report.snapshot;
    if (report.type !== "snapshot") {
      devices = report.devices;
      markReady();
    }
  });
  child.send({ type: "start", spec } satisfies ParentCommand);
  return {
    ready,
    snapshot: () => latest,
    devices: () => devices,
    async stop() {
      if (child.connected) child.send({ type: "stop" } satisfies ParentCommand);
      const force = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(force);
    },
  };
}
