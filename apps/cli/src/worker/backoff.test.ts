import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("reconnect backoff", () => {
  it("grows exponentially up to its cap, with jitter below it", () => {
    const top = new Backoff(500, 8000, () => 1);
    expect([top.next(), top.next(), top.next(), top.next(), top.next(), top.next()]).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ]);
    const low = new Backoff(500, 8000, () => 0);
    expect(low.next()).toBe(250);
    const spread = new Set(Array.from({ length: 50 }, () => new Backoff(500, 30_000).next()));
    expect(spread.size).toBeGreaterThan(10);
  });

  it("starts again from the base after a successful session", () => {
    const b = new Backoff(100, 10_000, () => 1);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(100);
  });
});
