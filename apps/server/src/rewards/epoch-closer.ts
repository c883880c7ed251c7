import type { Db } from "../db/database.js";
import { type IntervalJob, type JobLog, startIntervalJob } from "../jobs/interval-job.js";
import { runExclusive } from "../jobs/run-exclusive.js";
import type { ClosedEpoch } from "./epoch-close.js";
import { closeDueEpochs, type EpochTiming } from "./epoch-schedule.js";

/** The lease name every replica's closer competes for. */
export const EPOCH_CLOSE_JOB = "rewards.epoch-close";

/** Options of startEpochCloser. */
export interface EpochCloserOptions extends EpochTiming {
  db: Db;
  log: JobLog & { info(obj: object, msg: string): void };
  replicaId: string;
  /** Clock seam (milliseconds since 1970). */
  now?: () => number;
  /** Receives the wall time of each closed epoch's run, in seconds (the metrics histogram). */
  observeCloseSeconds?: ((seconds: number) => void) | undefined;
  /** The RewardRoots contract each closed epoch's root is queued for (undefined: roots stay off chain). */
  publishRootsTo?: string | undefined;
  /** Told (without being awaited) when a close queued roots for the chain. */
  onRootsQueued?: (() => void) | undefined;
}

/**
 * One tick of the scheduled close: if this replica gets the `rewards.epoch-close` lease, it closes the epochs
 * that are due and returns them; otherwise another replica is at it and nothing happens here.
 */
export async function runEpochCloseTick(options: EpochCloserOptions): Promise<ClosedEpoch[]> {
  const now = options.now ?? Date.now;
  const started = performance.now();
  const run = await runExclusive(
    options.db,
    EPOCH_CLOSE_JOB,
    () => closeDueEpochs(options.db, options, now(), { publishTo: options.publishRootsTo }),
    {
      holder: options.replicaId,
    },
  );
  if (!run.ran) return [];
  if (options.publishRootsTo && run.value.some((e) => e.root && !e.alreadyClosed)) options.onRootsQueued?.();
  // Several due epochs close in one run (after an outage): each is counted with its share of the time.
  const seconds = (performance.now() - started) / 1000 / Math.max(1, run.value.length);
  for (const epoch of run.value) {
    options.observeCloseSeconds?.(seconds);
    options.log.info(
      { epoch: epoch.epoch, root: epoch.root, total: epoch.total.toString(), devices: epoch.devices },
      "reward epoch closed",
    );
  }
  return run.value;
}

/**
 * The scheduled epoch close: a tick every tenth of an epoch (250 ms to 15 s). The lease keeps replicas from
 * working at once; closeEpoch's own transaction and "already closed" check make each epoch close exactly once
 * even if a lease were ever lost mid-run.
 */
export function startEpochCloser(options: EpochCloserOptions): IntervalJob {
  return startIntervalJob({
    name: EPOCH_CLOSE_JOB,
    intervalMs: Math.min(15_000, Math.max(250, (options.epochSeconds * 1000) / 10)),
    log: options.log,
    tick: async () => {
      await runEpochCloseTick(options);
    },
  });
}
