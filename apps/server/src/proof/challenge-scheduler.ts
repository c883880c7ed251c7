import type { ChallengeTrigger } from "@ignis/protocol";
import type { RandomSource } from "./random-source.js";

/** Longest single timer Node accepts (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The next challenge of each device whose session this replica holds: one timer per device. */
export interface ChallengeScheduler {
  /** Sets (or moves) the device's next challenge to `atMs`; a time already past fires at once. */
  at(deviceId: string, atMs: number, trigger: ChallengeTrigger): void;
  /** Forgets the device's next challenge (its session closed). */
  cancel(deviceId: string): void;
  /** When the device's next challenge is due, if one is scheduled. */
  nextAt(deviceId: string): { atMs: number; trigger: ChallengeTrigger } | undefined;
  /** Clears every timer. */
  stop(): void;
}

/** Creates a scheduler that calls `fire` when a device's challenge is due. */
export function createChallengeScheduler(options: {
  now: () => number;
  fire: (deviceId: string, trigger: ChallengeTrigger) => void;
}): ChallengeScheduler {
  const timers = new Map<string, { timer: NodeJS.Timeout; atMs: number; trigger: ChallengeTrigger }>();

  const arm = (deviceId: string, atMs: number, trigger: ChallengeTrigger) => {
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, atMs - options.now()));
    const timer = setTimeout(() => {
      if (timers.get(deviceId)?.timer !== timer) return;
      if (atMs > options.now()) return arm(deviceId, atMs, trigger);
      timers.delete(deviceId);
      options.fire(deviceId, trigger);
    }, wait);
    timer.unref();
    timers.set(deviceId, { timer, atMs, trigger });
  };

  return {
    at(deviceId, atMs, trigger) {
      const current = timers.get(deviceId);
      if (current) clearTimeout(current.timer);
      arm(deviceId, atMs, trigger);
    },
    cancel(deviceId) {
      const current = timers.get(deviceId);
      if (current) clearTimeout(current.timer);
      timers.delete(deviceId);
    },
    nextAt(deviceId) {
      const current = timers.get(deviceId);
      return current && { atMs: current.atMs, trigger: current.trigger };
    },
    stop() {
      for (const { timer } of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}

/**
 * A wait drawn from the exponential distribution with mean `meanMs`: memoryless, so having waited long tells
 * a worker nothing about when the next re-check comes. Clamped to [meanMs / 1000, 20 · meanMs] so that one
 * unlucky draw neither hammers a device nor forgets it (both tails have probability about 0.1% and 2·10^-9).
 */
export function exponentialDelayMs(meanMs: number, random: RandomSource): number {
  const b = random(6);
  const value = b[0] + b[1] * 2 ** 8 + b[2] * 2 ** 16 + b[3] * 2 ** 24 + b[4] * 2 ** 32 + b[5] * 2 ** 40;
  const u = (value + 1) / 2 ** 48; // in (0, 1]
  return Math.min(20 * meanMs, Math.max(meanMs / 1000, -Math.log(u) * meanMs));
}
