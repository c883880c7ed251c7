import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../testing/dialects.js";
import { startTestServer, type TestServer } from "../../testing/test-server.js";

const INDEX =
  "<!doctype html><html><body><div id=root></div><script type=module src=/assets/app-1.js></script>";

describe("web app serving", () => {
  let t: TestServer;
  let webDir: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    webDir = mkdtempSync(join(tmpdir(), "ignis-web-"));
    mkdirSync(join(webDir, "assets"));
    writeFileSync(join(webDir, "index.html"), INDEX);
    writeFileSync(join(webDir, "assets", "app-1.js"), "console.log('ignis')");
    writeFileSync(join(webDir, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    const database = await createTestDatabase("pglite");
    close = () => database.close();
    t = await startTestServer({ database, env: { IGNIS_WEB_DIR: webDir } });
  });
  afterAll(async () => {
    await t.stop();
    await close();
    rmSync(webDir, { recursive: true, force: true });
  });

  const html = (path: string) => fetch(`${t.url}${path}`, { headers: { accept: "text/html,*/*;q=0.8" } });

  it("serves the app shell at / and at client-side routes a browser navigates to", async () => {
    for (const path of ["/", "/devices/dev_abc", "/supplier", "/auth/callback?code=x&state=y"]) {
      const res = await html(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(await res.text()).toBe(INDEX);
    }
  });

  it("serves hashed assets as immutable and other files as they are", async () => {
    const asset = await fetch(`${t.url}/assets/app-1.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    const icon = await fetch(`${t.url}/favicon.svg`);
    expect(icon.headers.get("content-type")).toContain("image/svg+xml");
  });

  it("never answers API, identity or server paths with the app shell", async () => {
    for (const path of ["/v1/nope", "/oidc/nope", "/docs/nope.html", "/invite", "/auth/other"]) {
      const res = await html(path);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toBe(INDEX);
    }
    const api = await html("/v1/nope");
    expect(api.headers.get("content-type")).toContain("application/problem+json");
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/openapi.json`)).headers.get("content-type")).toContain("json");
  });

  it("serves the app at / to any client, not only to browsers", async () => {
    const res = await fetch(`${t.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toBe(INDEX);
  });

  it("answers a missing file with a problem, not the shell, when the client does not want HTML", async () => {
    const res = await fetch(`${t.url}/assets/missing.js`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });

  it("does not serve files outside the web directory", async () => {
    for (const path of [
      "/..%2F..%2Fetc%2Fpasswd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/assets/..%2F..%2Fpackage.json",
    ]) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain("root:");
    }
  });

  it("tells the web app which issuer and public client to sign in with", async () => {
    const res = await fetch(`${t.url}/v1/web-config`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      issuer: `${t.url}/oidc`,
      clientId: "ignis-web",
      embedded: true,
      redirectPath: "/auth/callback",
    });
  });
});
