import { monitorEventLoopDelay, performance } from "node:perf_hooks";

/** How late a process's event loop ran its timers over a window: p99 and max, in milliseconds. */
export interface LoopDelay {
  loopP99Ms: number;
  loopMaxMs: number;
  /** The share of the window the loop spent running callbacks rather than waiting for I/O (0–1). */
  loopUtilization: number;
}

/**
 * Watches this process's event-loop delay (10 ms resolution, libuv's own timer: the same small cost in every
 * process that uses it). `take()` reports the window since the previous `take()` and starts a new one, so a
 * bench can tell a server that stalls (GC, a long flush) from one that is merely busy, and its own stalls from
 * the server's.
 */
export function watchLoopDelay(): { take(): LoopDelay } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let since = performance.eventLoopUtilization();
  return {
    take() {
      const report = {
        loopP99Ms: histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0,
        loopMaxMs: histogram.count > 0 ? histogram.max / 1e6 : 0,
        loopUtilization: performance.eventLoopUtilization(since).utilization,
      };
      since = performance.eventLoopUtilization();
      histogram.reset();
      return report;
    },
  };
}
