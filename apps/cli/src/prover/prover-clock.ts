/** Time as a prover sees it: the seam that lets tests and simulations run on virtual time. */
export interface ProverClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** The real monotonic clock. */
export const systemClock: ProverClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** A virtual clock: time moves only when someone sleeps, so paced provers take exactly their modelled time. */
export interface VirtualClock extends ProverClock {
  /** Moves time forward without waiting. */
  advance(ms: number): void;
}

/** A virtual clock starting at `startMs`. */
export function createVirtualClock(startMs = 0): VirtualClock {
  let current = startMs;
  return {
    now: () => current,
    advance(ms) {
      current += Math.max(0, ms);
    },
    async sleep(ms) {
      current += Math.max(0, ms);
    },
  };
}
