import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../apps/server/src/testing/test-server.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { ROOT, runBin } from "./run-bin.js";

const SERVER = "apps/server/bin/ignis-server.js";

/**
 * An `ignis-server` process on its embedded defaults (PGlite in --data), and what a second process does with the
 * same data dir: `invite` goes through the running server's admin API, and a second server is refused.
 */
describe("ignis-server commands beside a running server", () => {
  let dataDir: string;
  let port: number;
  let url: string;
  let server: ChildProcess;
  let adminKey: string;
  const env = { IGNIS_HOST: "127.0.0.1", IGNIS_LOG_LEVEL: "silent", IGNIS_PUBLIC_URL: undefined };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "ignis-running-server-"));
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [join(ROOT, SERVER), "--port", String(port), "--data", dataDir], {
      cwd: ROOT,
      stdio: "ignore",
      env: { ...process.env, ...env },
    });
    // Bounded only to catch a hang: a loaded machine starts the server through tsx in tens of seconds.
    await waitFor(
      "ignis-server to answer /healthz and record itself in the data dir",
      async () => {
        if (server.exitCode !== null) throw new Error(`ignis-server exited with ${server.exitCode}`);
        const healthy = await fetch(`${url}/healthz`)
          .then((r) => r.ok)
          .catch(() => false);
        return healthy && existsSync(join(dataDir, "server.json")) ? true : undefined;
      },
      { timeoutMs: 150_000, everyMs: 200 },
    );
    adminKey = readFileSync(join(dataDir, "admin-api-key"), "utf8").trim();
  }, 180_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = once(server, "exit");
      server.kill("SIGTERM");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("invites through the running server: the user is in that server's database at once, the link on its port", async () => {
    const invite = await runBin(
      SERVER,
      [
        "invite",
        "--data",
        dataDir,
        "--port",
        String(port),
        "--email",
        "new@example.com",
        "--roles",
        "supplier",
      ],
      { env, timeoutMs: 120_000 },
    );
    expect(invite.stderr).toBe("");
    expect(invite.code).toBe(0);
    const link = invite.stdout.trim();
    expect(new URL(link).port).toBe(String(port));

    // The running server knows the user (a second invitation of the address is a conflict there) and serves
    // the link's one-time set-up page from its own database.
    const again = await fetch(`${url}/v1/admin/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ email: "new@example.com", roles: ["supplier"] }),
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe("conflict");
    const page = await fetch(new URL(new URL(link).pathname + new URL(link).search, url));
    expect(page.status).toBe(200);
  }, 150_000);

  it("refuses a second ignis-server on the same data dir with one line naming the holder, exit 1", async () => {
    const second = await runBin(SERVER, ["--port", String(await freePort()), "--data", dataDir], {
      env,
      timeoutMs: 120_000,
    });
    expect(second.code).toBe(1);
    const lines = second.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `ignis-server failed to start: the database in ${dataDir} is open in process ${server.pid}`,
    );
    // The first server is untouched: still healthy, still the data dir's recorded server.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(JSON.parse(readFileSync(join(dataDir, "server.json"), "utf8"))).toMatchObject({ pid: server.pid });
  }, 150_000);
});
