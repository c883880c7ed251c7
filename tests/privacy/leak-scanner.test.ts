import { describe, expect, it } from "vitest";
import { comparableProblem, findLeaks } from "./leak-scanner.js";

const JSON_TYPE = "application/json; charset=utf-8";

describe("the leak scanner the privacy crawl relies on", () => {
  it("flags a seeded secret anywhere, whatever the content type and case", () => {
    const leaks = findLeaks("<p>Owner: Alice@Example.org</p>", "text/html", ["alice@example.org"]);
    expect(leaks).toEqual([{ kind: "seeded secret", found: "alice@example.org" }]);
  });

  it("flags user ids, key ids, e-mails and addresses in JSON", () => {
    const body = JSON.stringify({
      a: `usr_${"a".repeat(26)}`,
      b: `key_${"b".repeat(26)}`,
      c: "someone@example.com",
      d: "host at 203.0.113.9",
    });
    expect(findLeaks(body, JSON_TYPE, []).map((l) => l.kind)).toEqual([
      "user id",
      "API key id",
      "e-mail address",
      "IPv4 address",
    ]);
  });

  it("flags owner-naming keys and numeric ids at any depth", () => {
    const body = JSON.stringify({ items: [{ id: 7, ownerId: "x" }], nested: { deep: { hostname: "h" } } });
    expect(findLeaks(body, JSON_TYPE, [])).toEqual([
      { kind: "numeric id", found: "$.items[0].id=7" },
      { kind: "forbidden key", found: "$.items[0].ownerId" },
      { kind: "forbidden key", found: "$.nested.deep.hostname" },
    ]);
  });

  it("passes a coarse location and flags any finer one", () => {
    const coarse = { country: "DE", region: "europe", source: "geoip" };
    expect(findLeaks(JSON.stringify({ location: coarse }), JSON_TYPE, [])).toEqual([]);
    expect(
      findLeaks(JSON.stringify({ location: { ...coarse, country: null, source: "unknown" } }), JSON_TYPE, []),
    ).toEqual([]);
    for (const fine of [
      { ...coarse, city: "Berlin" },
      { lat: 52.52, lon: 13.4 },
      { ...coarse, country: "Germany" },
      "Berlin, DE",
    ]) {
      expect(findLeaks(JSON.stringify({ location: fine }), JSON_TYPE, [])).toContainEqual({
        kind: "forbidden key",
        found: "$.location",
      });
    }
  });

  it("passes a public device view, timestamps and version-like numbers", () => {
    const body = JSON.stringify({
      id: `dev_${"c".repeat(26)}`,
      status: "online",
      label: null,
      gpu: { model: "NVIDIA A100", count: 1, vramGb: 80 },
      memory: { claimedMiB: 81_920, proven: true },
      enrolledOn: "2026-11-25",
      generatedAt: "2026-11-25T17:00:00.000Z",
      version: "0.1.0",
      uptime24h: 0.9876,
    });
    expect(findLeaks(body, JSON_TYPE, ["private-label"])).toEqual([]);
  });

  it("flags the owner-only parts of a device's memory proof", () => {
    const owner = { memory: { claimedMiB: 81_920, proven: true, provenAt: "2026-11-25T17:03:12.345Z" } };
    expect(findLeaks(JSON.stringify(owner), JSON_TYPE, [])).toContainEqual({
      kind: "forbidden key",
      found: "$.memory.provenAt",
    });
    const worker = { memory: { claimedMiB: 81_920, proven: false, workerProvesMemory: false } };
    expect(findLeaks(JSON.stringify(worker), JSON_TYPE, [])).toContainEqual({
      kind: "forbidden key",
      found: "$.memory.workerProvesMemory",
    });
  });

  it("compares problems without their request id and instance", () => {
    const a = { code: "not_found", status: 404, requestId: "r1", instance: "/a" };
    const b = { code: "not_found", status: 404, requestId: "r2", instance: "/b" };
    expect(comparableProblem(a)).toEqual(comparableProblem(b));
  });
});
