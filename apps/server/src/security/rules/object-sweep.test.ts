import { describe, expect, it } from "vitest";
import { createObjectSweepRule } from "./object-sweep.js";
import { anonymousRead, signal } from "./signal-fixtures.js";

const T0 = 1_000_000;

describe("object-sweep rule", () => {
  it("alerts when one credential writes to more distinct objects than the threshold within the window", () => {
    const rule = createObjectSweepRule({ writeThreshold: 10 });
    const findings = Array.from({ length: 11 }, (_, i) =>
      rule.observe(signal({ at: T0 + i * 1000, objectId: `dev_${i}` })),
    ).flat();
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      rule: "object_sweep",
      severity: "high",
      contain: true,
      subject: { key: "user:usr_a" },
      evidence: { kind: "write", distinctObjects: 11, threshold: 10 },
    });
  });

  it("does not count the same object twice", () => {
    const rule = createObjectSweepRule({ writeThreshold: 10 });
    const findings = Array.from({ length: 100 }, (_, i) =>
      rule.observe(signal({ at: T0 + i, objectId: `dev_${i % 5}` })),
    ).flat();
    expect(findings).toEqual([]);
  });

  it("forgets objects touched longer ago than the window", () => {
    const rule = createObjectSweepRule({ writeThreshold: 10, windowMs: 60_000 });
    const findings = Array.from({ length: 30 }, (_, i) =>
      rule.observe(signal({ at: T0 + i * 10_000, objectId: `dev_${i}` })),
    ).flat();
    expect(findings).toEqual([]);
  });

  it("contains an anonymous scraper by IP but only flags a signed-in reader", () => {
    const rule = createObjectSweepRule({ readThreshold: 5 });
    const scraper = Array.from({ length: 6 }, (_, i) =>
      rule.observe(anonymousRead({ at: T0 + i, objectId: `dev_${i}` })),
    ).flat();
    expect(scraper[0]).toMatchObject({
      contain: true,
      severity: "medium",
      subject: { key: "ip:192.0.2.10" },
    });
    const owner = Array.from({ length: 6 }, (_, i) =>
      rule.observe(signal({ at: T0 + i, method: "GET", write: false, objectId: `dev_${i}` })),
    ).flat();
    expect(owner[0]).toMatchObject({ contain: false, subject: { key: "user:usr_a" } });
  });

  it("ignores requests without an object", () => {
    const rule = createObjectSweepRule({ writeThreshold: 1 });
    expect(rule.observe(signal({ objectId: null }))).toEqual([]);
    expect(rule.observe(signal({ objectId: null }))).toEqual([]);
  });

  it("does not count requests of a blocked or unauthenticated caller", () => {
    const rule = createObjectSweepRule({ readThreshold: 3 });
    const findings = Array.from({ length: 10 }, (_, i) =>
      rule.observe(anonymousRead({ at: T0 + i, objectId: `dev_${i}`, status: i % 2 ? 429 : 401 })),
    ).flat();
    expect(findings).toEqual([]);
  });
});
