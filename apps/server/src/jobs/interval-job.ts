/** A minimal logger: what jobs need from pino. */
export interface JobLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A running periodic job. */
export interface IntervalJob {
  /** Runs one tick now (after the one in flight, if any) and resolves when it is done. */
  runNow(): Promise<void>;
  /** Stops scheduling and waits for a tick in flight to finish. */
  stop(): Promise<void>;
}

/** Options of startIntervalJob. */
export interface IntervalJobOptions {
  name: string;
  /** Pause between the end of one tick and the start of the next; ticks never overlap. */
  intervalMs: number;
  /** Delay before the first tick (default: intervalMs). */
  firstDelayMs?: number;
  tick: () => Promise<void>;
  log: JobLog;
}

/**
 * Runs `tick` every `intervalMs`, one at a time, logging (never throwing) failures. Pair it with runExclusive
 * inside `tick` when only one replica may act. Timers are unref'd, so a job never keeps a process alive.
 */
export function startIntervalJob(options: IntervalJobOptions): IntervalJob {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const runOnce = (): Promise<void> => {
    const run = inFlight.then(async () => {
      if (stopped) return;
      try {
        await options.tick();
      } catch (error) {
        options.log.error({ err: error, job: options.name }, "scheduled job failed; will retry");
      }
    });
    inFlight = run;
    return run;
  };
  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce().finally(() => schedule(options.intervalMs));
    }, delay);
    timer.unref();
  };
  schedule(options.firstDelayMs ?? options.intervalMs);

  return {
    runNow: runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}
