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

  it("gives every operation a unique operationId, its security and its problem+json 4xx answers", async () => {
    type Operation = {
      operationId?: string;
      security?: Array<Record<string, string[]>>;
      responses?: Record<string, { $ref?: string }>;
    };
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>;
      components: { responses: Record<string, { content: Record<string, unknown> }> };
    };
    const ids = new Set<string>();
    const publicRoutes = new Set(
      t.server.routeTable
        .filter((r) => r.meta?.access === "public")
        .map((r) => `${r.method.toLowerCase()} ${r.url.replace(/:([A-Za-z]+)/g, "{$1}")}`),
    );
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.operationId, where).toMatch(/^[a-z]+[A-Za-z0-9]*$/);
        expect(ids.has(op.operationId!), `${where}: duplicate operationId`).toBe(false);
        ids.add(op.operationId!);
        expect(op.security, where).toEqual(publicRoutes.has(`${method} ${path}`) ? [] : [{ bearer: [] }]);
        const errors = Object.keys(op.responses ?? {}).filter((s) => s.startsWith("4"));
        expect(errors, where).toContain("429");
        if (!publicRoutes.has(`${method} ${path}`))
          expect(errors, where).toEqual(expect.arrayContaining(["401", "403"]));
        if (path.includes("{")) expect(errors, where).toContain("404");
        for (const status of errors) {
          const response = op.responses![status] as { $ref?: string; content?: Record<string, unknown> };
          const shared =
            response.$ref && doc.components.responses[response.$ref.replace("#/components/responses/", "")];
          expect(Object.keys((shared || response).content ?? {}), `${where} ${status}`).toEqual([
            "application/problem+json",
          ]);
        }
      }
    }
    expect(ids.size).toBeGreaterThan(40);
    expect(doc.paths["/v1/devices/{deviceId}"]?.get?.operationId).toBe("getDevicesByDeviceId");
  });

  it("serves a human docs page", async () => {
    const res = await fetch(`${t.url}/docs/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<html");
  });
});
