import { afterEach, describe, expect, it, vi } from "vitest";
import { createChallengeScheduler, exponentialDelayMs } from "./challenge-scheduler.js";
import { seededRandom } from "./random-source.js";

describe("exponentialDelayMs", () => {
  it("draws waits whose mean is the configured mean and whose spread is exponential", () => {
    const random = seededRandom("exponential");
    const draws = Array.from({ length: 20_000 }, () => exponentialDelayMs(1000, random));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeGreaterThan(970);
    expect(mean).toBeLessThan(1030);
    // P(X > mean) = e^-1 ≈ 0.368: no wait after a pass is safe, and none is predictable.
    const beyondMean = draws.filter((d) => d > 1000).length / draws.length;
    expect(beyondMean).toBeGreaterThan(0.35);
    expect(beyondMean).toBeLessThan(0.39);
  });

  it("never draws less than a thousandth or more than twenty times the mean", () => {
    const zeros = () => new Uint8Array(6);
    const ones = () => new Uint8Array(6).fill(255);
    expect(exponentialDelayMs(1000, zeros)).toBe(20_000);
    expect(exponentialDelayMs(1000, ones)).toBe(1);
  });
});

describe("challenge scheduler", () => {
  afterEach(() => vi.useRealTimers());

  it("fires a device's challenge when it is due, once", () => {
    vi.useFakeTimers({ now: 0 });
    const fired: string[] = [];
    const s = createChallengeScheduler({
      now: Date.now,
      fire: (id, trigger) => fired.push(`${id}:${trigger}`),
    });
    s.at("dev_a", 500, "schedule");
    vi.advanceTimersByTime(499);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(["dev_a:schedule"]);
    expect(s.nextAt("dev_a")).toBeUndefined();
  });

  it("keeps one timer per device: a new time replaces the old one, and a cancel forgets it", () => {
    vi.useFakeTimers({ now: 0 });
    const fired: string[] = [];
    const s = createChallengeScheduler({
      now: Date.now,
      fire: (id, trigger) => fired.push(`${id}:${trigger}`),
    });
    s.at("dev_a", 1000, "schedule");
    s.at("dev_a", 200, "hardware");
    s.at("dev_b", 300, "retry");
    s.cancel("dev_b");
    vi.advanceTimersByTime(2000);
    expect(fired).toEqual(["dev_a:hardware"]);
  });

  it("waits longer than one Node timer allows by re-arming", () => {
    vi.useFakeTimers({ now: 0 });
    const fired: string[] = [];
    const s = createChallengeScheduler({ now: Date.now, fire: (id) => fired.push(id) });
    const thirtyDays = 30 * 86_400_000;
    s.at("dev_a", thirtyDays, "schedule");
    vi.advanceTimersByTime(thirtyDays - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(["dev_a"]);
  });

  it("stops every timer on stop", () => {
    vi.useFakeTimers({ now: 0 });
    const fired: string[] = [];
    const s = createChallengeScheduler({ now: Date.now, fire: (id) => fired.push(id) });
    s.at("dev_a", 10, "schedule");
    s.stop();
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
  });
});
