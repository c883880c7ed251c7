import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freshBundle } from "../../apps/server/bin/bundle-freshness.js";
import { buildServer } from "../../apps/server/scripts/build-server.js";
import { freePort } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { ROOT } from "../cli/run-bin.js";

/** A server package laid out as in the repository, with a bundle built at `builtAt` and one source file. */
function layout(builtAt: number, sourceAt: number): { root: string; source: string } {
  const repo = mkdtempSync(join(tmpdir(), "ignis-bundle-layout-"));
  const root = join(repo, "apps", "server");
  for (const dir of [join(root, "src"), join(root, "dist"), join(repo, "packages", "protocol", "src")])
    mkdirSync(dir, { recursive: true });
  for (const file of [join(root, "package.json"), join(repo, "packages", "protocol", "package.json")])
    writeFileSync(file, "{}");
  writeFileSync(join(root, "dist", "main.js"), "");
  writeFileSync(join(root, "dist", "built-at.json"), JSON.stringify({ startedAt: builtAt }));
  const source = join(root, "src", "main.ts");
  writeFileSync(source, "");
  const seconds = sourceAt / 1000;
  for (const path of [
    source,
    join(root, "src"),
    root,
    join(root, "package.json"),
    join(repo, "packages", "protocol", "src"),
    join(repo, "packages", "protocol", "package.json"),
  ])
    utimesSync(path, seconds, seconds);
  return { root, source };
}

describe("the server bundle (npm run build:server)", () => {
  const dirs: string[] = [];
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill("SIGKILL");
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("runs while no source is newer than it, and gives way to the sources as soon as one is", () => {
    const built = Date.UTC(2026, 11, 6, 12);
    const current = layout(built, built - 60_000);
    dirs.push(join(current.root, "..", ".."));
    expect(freshBundle(current.root)).toEqual({ bundle: join(current.root, "dist", "main.js") });

    const edited = layout(built, built - 60_000);
    dirs.push(join(edited.root, "..", ".."));
    utimesSync(edited.source, (built + 1000) / 1000, (built + 1000) / 1000);
    expect(freshBundle(edited.root).reason).toBe("sources changed since the bundle was built");

    rmSync(join(edited.root, "dist", "built-at.json"));
    expect(freshBundle(edited.root).reason).toMatch(/^no bundle/);
  });

  it("starts a server that answers /healthz, serves its OpenAPI document and reads the bundled country tables", async () => {
    const bundle = await buildServer();
    expect(freshBundle()).toEqual({ bundle });
    const data = mkdtempSync(join(tmpdir(), "ignis-bundled-start-"));
    dirs.push(data);
    const port = await freePort();
    server = spawn(process.execPath, [bundle, "--port", String(port), "--data", data], {
      cwd: ROOT,
      env: {
        ...process.env,
        IGNIS_HOST: "127.0.0.1",
        IGNIS_LOG_LEVEL: "silent",
        IGNIS_PUBLIC_URL: undefined,
      },
      stdio: "ignore",
    });
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      "the bundled server to answer /healthz",
      async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200,
      // A fresh PGlite data dir runs every migration first: over a minute on a loaded 2-core machine.
      { timeoutMs: 180_000, everyMs: 200 },
    );
    const openapi = await fetch(`${url}/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(((await openapi.json()) as { paths: object }).paths).toHaveProperty("/v1/explorer/map");
    const map = await fetch(`${url}/v1/explorer/map`);
    expect(map.status).toBe(200);
  }, 240_000);
});
