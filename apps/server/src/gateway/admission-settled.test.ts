import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { watchAdmissionSettled } from "./admission-settled.js";

describe("watchAdmissionSettled", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const watch = (refused: () => number, settled: (at: number) => void) =>
    watchAdmissionSettled({
      startedAtMs: 1_000_000 - 5_000,
      readyAtMs: 1_000_000,
      now: Date.now,
      refused,
      quietMs: 10_000,
      maxMs: 60_000,
      everyMs: 1000,
      settled,
    });

  it("settles at readiness when nobody was refused, once the quiet time has passed", () => {
    const settled = vi.fn();
    watch(() => 0, settled);
    vi.advanceTimersByTime(9_000);
    expect(settled).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(settled).toHaveBeenCalledExactlyOnceWith(1_000_000);
    vi.advanceTimersByTime(60_000);
    expect(settled).toHaveBeenCalledOnce();
  });

  it("settles at the last refusal while openers are still being paced", () => {
    let refused = 0;
    const settled = vi.fn();
    watch(() => refused, settled);
    for (let s = 1; s <= 20; s++) {
      refused += 50;
      vi.advanceTimersByTime(1_000);
    }
    expect(settled).not.toHaveBeenCalled();
    vi.advanceTimersByTime(10_000);
    expect(settled).toHaveBeenCalledExactlyOnceWith(1_020_000);
  });

  it("gives up at maxMs after the start when the refusals never stop", () => {
    let refused = 0;
    const settled = vi.fn();
    watch(() => ++refused, settled);
    vi.advanceTimersByTime(54_000);
    expect(settled).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(settled).toHaveBeenCalledExactlyOnceWith(1_055_000);
  });
});
