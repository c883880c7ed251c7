/**
 * `npm run lint:openapi`: starts a real ignis-server on a scratch data dir and a free port, fetches its
 * /openapi.json and lints it with Redocly CLI's recommended rules (redocly.yaml at the repository root).
 * Exits with Redocly's status: non-zero when any rule reports an error.
 */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const scratch = mkdtempSync(join(tmpdir(), "ignis-openapi-"));

const probe = createServer().listen(0, "127.0.0.1");
await once(probe, "listening");
const { port } = probe.address() as { port: number };
probe.close();
await once(probe, "close");

const url = `http://127.0.0.1:${port}`;
const server = spawn(
  process.execPath,
  [join(ROOT, "apps/server/bin/ignis-server.js"), "--port", String(port), "--data", join(scratch, "data")],
  { cwd: ROOT, stdio: "ignore", env: { ...process.env, IGNIS_HOST: "127.0.0.1", IGNIS_LOG_LEVEL: "silent" } },
);
let status = 1;
try {
  // Bounded only to catch a hang: on a loaded machine the server starts through tsx in tens of seconds.
  const deadline = Date.now() + 180_000;
  let document: string | undefined;
  while (!document) {
    if (server.exitCode !== null) throw new Error(`ignis-server exited with ${server.exitCode}`);
    if (Date.now() > deadline) throw new Error("ignis-server did not serve /openapi.json within 180 s");
    const response = await fetch(`${url}/openapi.json`).catch(() => undefined);
    if (response?.ok) document = await response.text();
    else await new Promise((r) => setTimeout(r, 250));
  }
  const file = join(scratch, "openapi.json");
  writeFileSync(file, document);
  const lint = spawnSync(
    join(ROOT, "node_modules/.bin/redocly"),
    ["lint", "--config", join(ROOT, "redocly.yaml"), ...process.argv.slice(2), file],
    {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    },
  );
  status = lint.status ?? 1;
} catch (error) {
  process.stderr.write(`lint:openapi: ${(error as Error).message}\n`);
} finally {
  if (server.exitCode === null) {
    server.kill("SIGTERM");
    await once(server, "exit");
  }
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(status);
