import { describe, expect, it } from "vitest";
import { createRateLimits } from "./rate-limits.js";
import { createSignInThrottle } from "./sign-in-throttle.js";

describe("sign-in throttle", () => {
  it("doubles the delay of an (e-mail, client) pair after each failure past the free ones", async () => {
    const limits = createRateLimits();
    const throttle = createSignInThrottle(limits);
    const delays: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      await throttle.failed("Victim@Example.com", "203.0.113.5");
      delays.push(await limits.blockedFor("signin:victim@example.com|203.0.113.5"));
    }
    expect(delays).toEqual([0, 0, 0, 1, 2, 4, 8]);
    await expect(throttle.before("victim@example.com", "203.0.113.5")).rejects.toMatchObject({
      code: "rate_limited",
    });
  });

  it("keeps the same e-mail open to every other client address", async () => {
    const limits = createRateLimits();
    const throttle = createSignInThrottle(limits);
    for (let i = 0; i < 12; i += 1) await throttle.failed("victim@example.com", "203.0.113.5");
    await expect(throttle.before("victim@example.com", "192.0.2.8")).resolves.toBeUndefined();
  });

  it("ends a pair's delay when it signs in", async () => {
    const limits = createRateLimits();
    const throttle = createSignInThrottle(limits);
    for (let i = 0; i < 5; i += 1) await throttle.failed("a@example.com", "192.0.2.9");
    await throttle.succeeded("a@example.com", "192.0.2.9");
    expect(await limits.blockedFor("signin:a@example.com|192.0.2.9")).toBe(0);
  });
});
