import { describe, expect, it } from "vitest";
import type { Finding } from "../signals.js";
import { signal } from "./signal-fixtures.js";
import { createSustainedWritesRule } from "./sustained-writes.js";

const MINUTE = 60_000;

/** Feeds `perMinute` writes a minute for `minutes` minutes, from `start`, switching keys every write. */
function feed(
  rule: ReturnType<typeof createSustainedWritesRule>,
  start: number,
  minutes: number,
  perMinute: number,
) {
  const findings: Finding[] = [];
  for (let m = 0; m < minutes; m += 1) {
    for (let i = 0; i < perMinute; i += 1) {
      const at = start + m * MINUTE + Math.floor((i * MINUTE) / perMinute);
      findings.push(...rule.observe(signal({ at, credentialId: `key_${i % 3}` })));
    }
  }
  return findings;
}

describe("sustained writes", () => {
  it("alerts once on a slow attack of 120 writes a minute that the 10-second surge floor never sees", () => {
    const rule = createSustainedWritesRule();
    const findings = feed(rule, 0, 15, 120);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      rule: "sustained_writes",
      contain: false,
      subject: { key: "user:usr_a" },
    });
  });

  it("stays quiet for a user steadily writing 20 a minute all day", () => {
    const rule = createSustainedWritesRule();
    expect(feed(rule, 0, 8 * 60, 20)).toEqual([]);
  });

  it("alerts when a user who writes 30 a minute suddenly writes 10 times their own baseline", () => {
    const rule = createSustainedWritesRule();
    expect(feed(rule, 0, 6 * 60, 25)).toEqual([]);
    expect(feed(rule, 6 * 60 * MINUTE, 30, 300)).toHaveLength(1);
  });
});
