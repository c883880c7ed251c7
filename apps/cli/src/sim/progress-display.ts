import cliProgress from "cli-progress";
import type { FleetSnapshot } from "./fleet.js";

/** A live view of the fleet: a bar on a terminal, nothing elsewhere (logs and pipes get the summary only). */
export interface ProgressDisplay {
  update(snapshot: FleetSnapshot): void;
  stop(): void;
}

/** Starts the display when stdout is a TTY; otherwise returns one that does nothing. */
export function startProgressDisplay(target: number, durationSeconds: number | undefined): ProgressDisplay {
  if (!process.stdout.isTTY) return { update() {}, stop() {} };
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      format:
        "{bar} enrolled {value}/{total} | online {online} | heartbeats {heartbeats} ({rate}/s) | errors {errors} | {clock}",
      hideCursor: true,
      barsize: 24,
      fps: 4,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(target, 0, { online: 0, heartbeats: 0, rate: 0, errors: 0, clock: "" });
  let previous = { at: started, heartbeats: 0 };
  return {
    update(s) {
      const now = Date.now();
      const rate =
        now > previous.at ? ((s.heartbeats - previous.heartbeats) * 1000) / (now - previous.at) : 0;
      if (now - previous.at >= 1000) previous = { at: now, heartbeats: s.heartbeats };
      const elapsed = Math.round((now - started) / 1000);
      bar.update(s.enrolled + s.enrollFailures, {
        online: s.online,
        heartbeats: s.heartbeats,
        rate: Math.round(rate),
        errors: s.errors + s.enrollFailures,
        clock: durationSeconds ? `${elapsed}/${durationSeconds} s` : `${elapsed} s (Ctrl-C to stop)`,
      });
    },
    stop: () => bar.stop(),
  };
}
