import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../testing/dialects.js";
import { createTestIssuer } from "../testing/test-issuer.js";
import { startTestServer, type TestServer } from "../testing/test-server.js";

describeEachDialect("OpenAPI document", (database) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ database: database(), issuer: await createTestIssuer() });
  });
  afterAll(() => t.stop());

  it("is OpenAPI 3.1 and covers every /v1 route of the route table", async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, object>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    // The worker WebSocket is an upgrade, which OpenAPI cannot describe; its protocol lives in packages/protocol.
    const routes = t.server.routeTable.filter(
      (r) => r.url.startsWith("/v1/") && !r.url.startsWith("/v1/worker/") && r.method !== "HEAD",
    );
    expect(routes.length).toBeGreaterThan(3);
    for (const route of routes) {
      const openApiPath = route.url.replace(/:([A-Za-z]+)/g, "{$1}");
      expect(documented, `${route.method} ${openApiPath} is missing from /openapi.json`).toContain(
        `${route.method} ${openApiPath}`,
      );
    }
  });

  it("serves a human docs page", async () => {
    const res = await fetch(`${t.url}/docs/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<html");
  });
});
