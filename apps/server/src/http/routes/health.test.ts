import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../testing/dialects.js";
import { createTestIssuer } from "../../testing/test-issuer.js";
import { freePort, startTestServer, type TestServer } from "../../testing/test-server.js";

describeEachDialect("health and metrics", (database) => {
  let t: TestServer;
  let metricsPort: number;
  beforeAll(async () => {
    metricsPort = await freePort();
    t = await startTestServer({
      database: database(),
      issuer: await createTestIssuer(),
      env: { IGNIS_METRICS_PORT: String(metricsPort) },
    });
  });
  afterAll(() => t.stop());

  it("answers /healthz with status ok to anyone", async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-ignis-release")).toMatch(/^\d+\.\d+\.\d+/);
    expect(Date.parse(res.headers.get("x-ignis-time") ?? "")).toBeGreaterThan(0);
  });

  it("serves Prometheus text with latency histograms and build info to admins", async () => {
    await fetch(`${t.url}/healthz`);
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminKey}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("ignis_http_request_duration_seconds_bucket");
    expect(text).toContain("ignis_build_info");
    expect(text).toContain('ignis_db_pool_connections{state="total"');
  });

  it("keeps /metrics from anonymous callers on the public port", async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });

  it("serves /metrics to anyone on the metrics port", async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("ignis_build_info");
  });

  it("answers unknown routes with a problem+json not_found", async () => {
    const res = await fetch(`${t.url}/v1/no-such-thing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("not_found");
  });
});
