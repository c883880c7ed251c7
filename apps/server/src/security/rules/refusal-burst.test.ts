import { describe, expect, it } from "vitest";
import { createRefusalBurstRule } from "./refusal-burst.js";
import { anonymousRead, signal } from "./signal-fixtures.js";

const T0 = 1_000_000;

describe("refusal-burst rule", () => {
  it("alerts on an IP guessing API keys (a burst of 401s)", () => {
    const rule = createRefusalBurstRule({ threshold: 20 });
    const findings = Array.from({ length: 20 }, (_, i) =>
      rule.observe(anonymousRead({ at: T0 + i * 100, status: 401, route: "/v1/me", objectId: null })),
    ).flat();
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      rule: "refusal_burst",
      contain: true,
      subject: { key: "ip:192.0.2.10", actorType: "anonymous" },
      evidence: { refusals: 20, statuses: { 401: 20 } },
    });
  });

  it("alerts on both the credential and its address when a signed-in actor probes others' objects", () => {
    const rule = createRefusalBurstRule({ threshold: 5 });
    const findings = Array.from({ length: 5 }, (_, i) =>
      rule.observe(signal({ at: T0 + i, status: 404, objectId: `dev_${i}` })),
    ).flat();
    expect(findings.map((f) => f.subject.key).sort()).toEqual(["ip:192.0.2.10", "user:usr_a"]);
  });

  it("does not count successes, validation errors or rate limits", () => {
    const rule = createRefusalBurstRule({ threshold: 3 });
    const findings = [200, 400, 429, 200, 400, 429].flatMap((status, i) =>
      rule.observe(signal({ at: T0 + i, status })),
    );
    expect(findings).toEqual([]);
  });

  it("needs the refusals within the window", () => {
    const rule = createRefusalBurstRule({ threshold: 5, windowMs: 60_000 });
    const findings = Array.from({ length: 20 }, (_, i) =>
      rule.observe(anonymousRead({ at: T0 + i * 20_000, status: 404 })),
    ).flat();
    expect(findings).toEqual([]);
  });

  it("fires once per cooldown, not on every further refusal", () => {
    const rule = createRefusalBurstRule({ threshold: 3, cooldownMs: 60_000 });
    const findings = Array.from({ length: 30 }, (_, i) =>
      rule.observe(anonymousRead({ at: T0 + i, status: 404 })),
    ).flat();
    expect(findings).toHaveLength(1);
  });
});
