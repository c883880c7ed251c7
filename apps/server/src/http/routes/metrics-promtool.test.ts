import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";

/** Why the check cannot run here (promtool comes with Debian's `prometheus` package), or undefined. */
function promtoolMissing(): string | undefined {
  const probe = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  if (probe.status === 0) return undefined;
  const why = "promtool not found (apt-get install prometheus); skipping `promtool check metrics`";
  if (process.env.IGNIS_TEST_REQUIRE_PROMTOOL === "1")
    throw new Error(`${why}, but IGNIS_TEST_REQUIRE_PROMTOOL=1`);
  return why;
}

const skip = promtoolMissing();
if (skip) console.warn(`[ignis tests] ${skip}`);

describeEachDialect("/metrics under promtool", (database) => {
  let t: TestServer;
  beforeAll(async () => {
    if (skip) return;
    t = await startTestServer({ database: database() });
  });
  afterAll(() => t?.stop());

  it.skipIf(skip !== undefined)("passes `promtool check metrics` after traffic of every kind", async () => {
    // Successes, a refusal and an unknown route, so the labelled series exist and are checked too.
    await fetch(`${t.url}/healthz`);
    await fetch(`${t.url}/v1/explorer/stats`);
    await fetch(`${t.url}/v1/devices`);
    await fetch(`${t.url}/v1/no-such-thing`);
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminKey}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("ignis_http_request_duration_seconds_bucket");
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(`${check.stdout}${check.stderr}`.trim()).toBe("");
    expect(check.status).toBe(0);
  });
});
