import { describe, expect, it } from "vitest";
import { waitFor } from "../testing/wait-for.js";
import { refreshingValue } from "./refreshing-value.js";

function counter() {
  let loads = 0;
  let release: (() => void) | undefined;
  return {
    get loads() {
      return loads;
    },
    /** A load that resolves when `finish()` is called, with the number of the load. */
    load: () => {
      loads++;
      const n = loads;
      return new Promise<number>((resolve) => {
        release = () => resolve(n);
      });
    },
    finish: () => release?.(),
  };
}

describe("a refreshing value (the explorer's stats cache)", () => {
  it("serves a burst of readers with one load", async () => {
    let now = 0;
    const c = counter();
    const value = refreshingValue(c.load, { freshMs: 3000, maxStaleMs: 60_000, now: () => now });
    const readers = Array.from({ length: 50 }, () => value.get());
    c.finish();
    expect(await Promise.all(readers)).toEqual(Array(50).fill(1));
    now = 2999;
    expect(await value.get()).toBe(1);
    expect(c.loads).toBe(1);
  });

  it("keeps answering the previous value while one refresh runs", async () => {
    let now = 0;
    const c = counter();
    const value = refreshingValue(c.load, { freshMs: 3000, maxStaleMs: 60_000, now: () => now });
    const first = value.get();
    c.finish();
    await first;
    now = 5000;
    expect(await value.get()).toBe(1);
    expect(await value.get()).toBe(1);
    expect(c.loads).toBe(2);
    c.finish();
    // Readers get the new value once the refresh has landed, and no further load is started meanwhile.
    await waitFor("the refreshed value", async () => (await value.get()) === 2);
    expect(c.loads).toBe(2);
  });

  it("makes readers wait for fresh data once the value is too old", async () => {
    let now = 0;
    const c = counter();
    const value = refreshingValue(c.load, { freshMs: 3000, maxStaleMs: 10_000, now: () => now });
    const first = value.get();
    c.finish();
    await first;
    now = 20_000;
    const waiting = value.get();
    c.finish();
    expect(await waiting).toBe(2);
  });

  it("tries again after a failed load instead of caching the failure", async () => {
    let fail = true;
    const value = refreshingValue(
      async () => {
        if (fail) throw new Error("database down");
        return "ok";
      },
      { freshMs: 3000, maxStaleMs: 10_000 },
    );
    await expect(value.get()).rejects.toThrow("database down");
    fail = false;
    expect(await value.get()).toBe("ok");
  });
});
