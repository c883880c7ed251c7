import { describe, expect, it } from "vitest";
import { waitFor } from "./wait-for.js";

describe("waiting for an event", () => {
  it("returns the probe's first value once the event happened", async () => {
    let calls = 0;
    const value = await waitFor("the third call", () => (++calls >= 3 ? { calls } : undefined), {
      everyMs: 1,
    });
    expect(value).toEqual({ calls: 3 });
  });

  it("returns what it read once `until` accepts it", async () => {
    let calls = 0;
    const value = await waitFor(
      "the status online",
      () => ({ status: ++calls >= 3 ? "online" : "offline" }),
      {
        until: (row) => row.status === "online",
        everyMs: 1,
      },
    );
    expect(value).toEqual({ status: "online" });
    expect(calls).toBe(3);
  });

  it("names what it waited for and the probe's last error when the bound passes", async () => {
    await expect(
      waitFor(
        "a row that never comes",
        () => {
          throw new Error("relation does not exist");
        },
        { timeoutMs: 20, everyMs: 5 },
      ),
    ).rejects.toThrow(
      "timed out after 20 ms waiting for a row that never comes; last error: Error: relation does not exist",
    );
  });

  it("shows the last value it read when the bound passes", async () => {
    await expect(
      waitFor("the device online", () => ({ status: "offline", sessions: 2 }), {
        until: (row) => row.status === "online",
        timeoutMs: 20,
        everyMs: 5,
      }),
    ).rejects.toThrow(
      "timed out after 20 ms waiting for the device online; last value seen: { status: 'offline', sessions: 2 }",
    );
    await expect(waitFor("the flag", () => false, { timeoutMs: 20, everyMs: 5 })).rejects.toThrow(
      "timed out after 20 ms waiting for the flag; last value seen: false",
    );
  });
});
