import { describe, expect, it } from "vitest";
import { signal } from "./signal-fixtures.js";
import { createWriteSurgeRule } from "./write-surge.js";

const T0 = 1_000_000;

describe("write-surge rule", () => {
  it("does not alert on a quiet system's first writes below the floor", () => {
    const rule = createWriteSurgeRule({ actorFloor: 30 });
    const findings = Array.from({ length: 30 }, (_, i) => rule.observe(signal({ at: T0 + i * 100 }))).flat();
    expect(findings).toEqual([]);
  });

  it("alerts on one actor's surge past the floor and asks to contain it", () => {
    const rule = createWriteSurgeRule({ actorFloor: 30 });
    const findings = Array.from({ length: 31 }, (_, i) =>
      rule.observe(signal({ at: T0 + i * 50, objectId: `dev_${i}` })),
    ).flat();
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      rule: "write_surge",
      severity: "high",
      contain: true,
      subject: { key: "user:usr_a", credentialType: "api_key" },
      evidence: { scope: "actor", writesInWindow: 31, threshold: 30 },
    });
  });

  it("stays quiet while an actor's steady rate is its own baseline, and alerts when it jumps well above", () => {
    const rule = createWriteSurgeRule({ actorFloor: 5, multiplier: 4, bucketMs: 10_000, alpha: 0.2 });
    let at = T0;
    // 20 writes per 10 s for 10 minutes: above the floor, but the baseline learns it (up to its threshold).
    const alertedAt: number[] = [];
    for (let i = 0; i < 1200; i += 1) {
      at += 500;
      if (rule.observe(signal({ at })).length > 0) alertedAt.push(i);
    }
    // Only the first windows alert, while the baseline still starts from zero.
    expect(alertedAt.every((i) => i < 60)).toBe(true);
    const surge = Array.from({ length: 400 }, (_, i) =>
      rule.observe(signal({ at: at + 1000 + i * 10 })),
    ).flat();
    expect(surge.some((f) => f.evidence.scope === "actor")).toBe(true);
  });

  it("measures the global rate across actors, without containing anyone", () => {
    const rule = createWriteSurgeRule({ actorFloor: 1000, globalFloor: 50 });
    const findings = Array.from({ length: 51 }, (_, i) =>
      rule.observe(signal({ at: T0 + i * 10, credentialId: `key_${i}`, actorId: `usr_${i}` })),
    ).flat();
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ contain: false, subject: { key: "global:write" } });
  });

  it("counts a burst straddling two buckets as one window", () => {
    const rule = createWriteSurgeRule({ actorFloor: 30, bucketMs: 10_000 });
    const first = Array.from({ length: 20 }, (_, i) =>
      rule.observe(signal({ at: T0 + 9_000 + i * 40 })),
    ).flat();
    const second = Array.from({ length: 20 }, (_, i) =>
      rule.observe(signal({ at: T0 + 10_001 + i * 40 })),
    ).flat();
    expect(first).toEqual([]);
    expect(second.filter((f) => f.evidence.scope === "actor")).toHaveLength(1);
  });

  it("ignores reads and forgets a subject after release", () => {
    const rule = createWriteSurgeRule({ actorFloor: 3 });
    expect(rule.observe(signal({ write: false, method: "GET" }))).toEqual([]);
    for (let i = 0; i < 3; i += 1) rule.observe(signal({ at: T0 + i }));
    rule.forget("user:usr_a");
    expect(rule.observe(signal({ at: T0 + 10 }))).toEqual([]);
  });

  it("does not count writes turned away before authentication or by a budget", () => {
    const rule = createWriteSurgeRule({ actorFloor: 3 });
    const findings = [401, 429, 401, 429, 401, 429].flatMap((status, i) =>
      rule.observe(signal({ at: T0 + i, status })),
    );
    expect(findings).toEqual([]);
  });
});
