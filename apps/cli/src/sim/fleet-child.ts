/**
 * Entry point of a fleet child process (`ignis sim --processes P`): runs the fleet its parent sends over IPC
 * and reports counts until told to stop. Exits on its own when the parent goes away.
 */
import type { ChildReport, ParentCommand } from "./child-fleet.js";
import { type Fleet, startFleet } from "./fleet.js";

let fleet: Fleet | undefined;
let ticker: NodeJS.Timeout | undefined;
let stopping = false;

const report = (message: ChildReport) =>
  new Promise<void>((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });

const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  if (fleet) {
    await fleet.stop();
    // The final counts must reach the parent before this process exits.
    await report({ type: "stopped", snapshot: fleet.snapshot(), devices: fleet.devices() });
  }
  process.disconnect?.();
  process.exit(0);
};

process.on("message", (raw) => {
  const command = raw as ParentCommand;
  if (command.type === "start" && !fleet) {
    fleet = startFleet(command.spec);
    const started = fleet;
    void started.ready.then(() =>
      report({ type: "ready", snapshot: started.snapshot(), devices: started.devices() }),
    );
    ticker = setInterval(() => report({ type: "snapshot", snapshot: started.snapshot() }), 500);
  } else if (command.type === "stop") {
    void stop();
  }
});
process.on("disconnect", () => void stop());
process.on("SIGINT", () => undefined); // the parent decides when to stop; Ctrl-C reaches the whole group
