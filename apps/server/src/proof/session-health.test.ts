import { afterEach, describe, expect, it, vi } from "vitest";
import { probeIntervalMs, stallExcuses, watchSessionHealth } from "./session-health.js";

/** A session whose pongs the test releases: `answerAll()` is the worker's event loop getting to them. */
function session() {
  const waiting: Array<(answered: boolean) => void> = [];
  return {
    probes: () => waiting.length,
    probe: () => new Promise<boolean>((resolve) => waiting.push(resolve)),
    async answerAll() {
      for (const resolve of waiting.splice(0)) resolve(true);
      await Promise.resolve();
      await Promise.resolve();
    },
  };
}

describe("watching a session's health during a challenge", () => {
  afterEach(() => vi.useRealTimers());

  it("sees no stall when the session answers every ping at once", async () => {
    vi.useFakeTimers({ now: 0 });
    const peer = session();
    const health = watchSessionHealth({ now: Date.now, probe: peer.probe, everyMs: 200, baselineRttMs: 5 });
    for (let i = 0; i < 5; i++) {
      await peer.answerAll();
      vi.advanceTimersByTime(200);
    }
    await peer.answerAll();
    expect(health.stallMs()).toBe(0);
    expect(peer.probes()).toBe(0);
    health.stop();
  });

  it("sees a 3.5 s host stall as pings left unanswered, while it lasts and after", async () => {
    vi.useFakeTimers({ now: 0 });
    const peer = session();
    const health = watchSessionHealth({ now: Date.now, probe: peer.probe, everyMs: 200, baselineRttMs: 5 });
    await peer.answerAll();
    // The host stalls from now until 3.5 s: the pings of 0.2 s, 0.4 s, ... wait; the first for 3.3 s.
    vi.advanceTimersByTime(3_500);
    expect(health.stallMs()).toBe(3_300 - 5);
    await peer.answerAll();
    expect(health.stallMs()).toBe(3_300 - 5);
    health.stop();
  });

  it("sees the server's own stall as its timer firing late", async () => {
    vi.useFakeTimers({ now: 0 });
    let clock = 0;
    const health = watchSessionHealth({
      now: () => clock,
      probe: () => Promise.resolve(true),
      everyMs: 200,
      baselineRttMs: 0,
    });
    await Promise.resolve();
    await Promise.resolve();
    // The event loop was blocked for 3.5 s: the clock moved on, the timer fires once it is free.
    clock = 3_700;
    vi.advanceTimersByTime(200);
    expect(health.stallMs()).toBe(3_500);
    health.stop();
  });

  it("stops probing once stopped", () => {
    vi.useFakeTimers({ now: 0 });
    const peer = session();
    const health = watchSessionHealth({ now: Date.now, probe: peer.probe, everyMs: 200, baselineRttMs: 0 });
    health.stop();
    vi.advanceTimersByTime(2_000);
    expect(peer.probes()).toBe(1);
  });

  it("probes four times per deadline, and no more often than every 50 ms", () => {
    expect(probeIntervalMs({ deadlineMs: 2_500 })).toBe(625);
    expect(probeIntervalMs({ deadlineMs: 100 })).toBe(50);
  });

  it("lets a stall excuse a late commit only when it took at least half the honest slack, or the whole lateness", () => {
    const size = { deadlineMs: 2_550, expectedMs: 2_000 };
    expect(stallExcuses(size, 3_500)).toBe(true);
    expect(stallExcuses(size, 275)).toBe(true);
    expect(stallExcuses(size, 274)).toBe(false);
    expect(stallExcuses(size, 0)).toBe(false);
    // The 300-device sim's honest group challenge: 102 ms late with a 376 ms stall (half the slack was 422 ms).
    const sim = { deadlineMs: 905, expectedMs: 61 };
    expect(stallExcuses(sim, 376, 102)).toBe(true);
    expect(stallExcuses(sim, 376)).toBe(false);
    // A stall shorter than the lateness does not explain it; a healthy session (no stall) never is excused.
    expect(stallExcuses(size, 200, 201)).toBe(false);
    expect(stallExcuses(size, 0, 50)).toBe(false);
  });
});
