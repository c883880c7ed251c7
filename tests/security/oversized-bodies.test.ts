import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { auditOf, requestId } from "./support/audit-trail.js";
import { buildWorld, type World } from "./support/world.js";

function nested(depth: number, open: string, close: string, inner = "1"): string {
  return `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
}

describeEachDialect("oversized and deeply nested bodies", (database) => {
  let w: World;
  beforeAll(async () => {
    w = await buildWorld(database());
  });
  afterAll(() => w.t.stop());

  const labelOf = async () =>
    (await w.db.selectFrom("devices").select("label").where("id", "=", w.deviceA).executeTakeFirstOrThrow())
      .label;

  const bodies: [string, () => string, number, string[]][] = [
    [
      "a 300 KiB label (over the body limit)",
      () => JSON.stringify({ label: "x".repeat(300 * 1024) }),
      413,
      ["payload_too_large"],
    ],
    [
      "a 2 MiB body of whitespace",
      () => `{"label":"x"${" ".repeat(2 * 1024 * 1024)}}`,
      413,
      ["payload_too_large"],
    ],
    [
      "arrays nested 20 000 deep",
      () => `{"label":${nested(20_000, "[", "]")}}`,
      400,
      ["validation_failed", "malformed_json", "bad_request"],
    ],
    [
      "objects nested 10 000 deep",
      () => `{"label":${nested(10_000, '{"a":', "}")}}`,
      400,
      ["validation_failed", "malformed_json", "bad_request"],
    ],
    [
      "ten thousand unknown keys",
      () => JSON.stringify(Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]))),
      400,
      ["unknown_field"],
    ],
    [
      "a label of 10 000 characters (under the body limit)",
      () => JSON.stringify({ label: "y".repeat(10_000) }),
      400,
      ["validation_failed"],
    ],
    ["a number instead of a label", () => JSON.stringify({ label: 1e308 }), 400, ["validation_failed"]],
    ["malformed JSON", () => '{"label": "x",,}', 400, ["malformed_json"]],
    ["a body that is not JSON at all", () => "label=x", 400, ["malformed_json", "bad_request"]],
  ];

  it("answers each with a clear 4xx, changes nothing, audits it and stays up", async () => {
    const before = await labelOf();
    const wrong: string[] = [];
    for (const [name, body, status, codes] of bodies) {
      const rid = requestId("body");
      const res = await w.call("owner", "PATCH", `/v1/devices/${w.deviceA}`, body(), { "x-request-id": rid });
      const problem = (await res.json()) as { code?: string };
      if (res.status !== status || !codes.includes(problem.code ?? ""))
        wrong.push(`${name}: ${res.status} ${problem.code}`);
      const audit = await auditOf(w, rid);
      if (audit.length !== 1 || !audit[0]!.outcome.startsWith("refused:"))
        wrong.push(`${name}: audit ${JSON.stringify(audit)}`);
    }
    expect(wrong).toEqual([]);
    expect(await labelOf()).toBe(before);
    const health = await fetch(`${w.t.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
