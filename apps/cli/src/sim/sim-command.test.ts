import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../server/src/testing/test-server.js";
import { waitFor } from "../../../server/src/testing/wait-for.js";
import type { SimSummary } from "./run-sim.js";

const REPO_ROOT = fileURLToPath(new URL("../../../..", import.meta.url));
const run = promisify(execFile);

/** `ignis sim` as a user runs it: the CLI binary against an `ignis-server` process on the embedded defaults. */
describe("ignis sim against a running server", () => {
  let server: ChildProcess;
  let url: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "ignis-sim-cli-"));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [join(REPO_ROOT, "apps/server/bin/ignis-server.js")], {
      cwd: REPO_ROOT,
      stdio: "ignore",
      env: {
        ...process.env,
        IGNIS_PORT: String(port),
        IGNIS_HOST: "127.0.0.1",
        IGNIS_PUBLIC_URL: url,
        IGNIS_DATA_DIR: dataDir,
        IGNIS_HEARTBEAT_SECONDS: "0.5",
        // A failed first challenge is retried after a second, so the counterfeit is caught within the run.
        IGNIS_CHALLENGE_RETRY_SECONDS: "1",
        IGNIS_LOG_LEVEL: "silent",
      },
    });
    // Waits for /healthz, or the server's exit; the bound only catches a hang (a loaded machine starts the
    // server through tsx in tens of seconds).
    const started = await waitFor(
      "ignis-server to answer /healthz (or exit)",
      async () => {
        if (server.exitCode !== null) return { exitCode: server.exitCode };
        const healthy = await fetch(`${url}/healthz`)
          .then((r) => r.ok)
          .catch(() => false);
        return healthy && { exitCode: null };
      },
      { timeoutMs: 100_000, everyMs: 150 },
    );
    if (started.exitCode !== null) throw new Error(`ignis-server exited with ${started.exitCode} at start`);
  }, 120_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("enrolls the fleet under a new supplier, verifies the honest devices and catches the counterfeit", async () => {
    const adminKey = readFileSync(join(dataDir, "admin-api-key"), "utf8").trim();
    const { stdout } = await run(
      process.execPath,
      [
        join(REPO_ROOT, "apps/cli/bin/ignis.js"),
        "sim",
        ...["--server", url, "--api-key", adminKey, "--devices", "4", "--counterfeit", "1"],
        ...["--profile", "sim-rtx4090", "--duration", "12", "--json"],
      ],
      { cwd: REPO_ROOT, timeout: 60_000 },
    );
    // Not a terminal: no progress bar, the summary alone.
    const summary = JSON.parse(stdout) as SimSummary;

    expect(summary.supplierCreated).toBe(true);
    expect(summary.fleet).toMatchObject({
      target: 4,
      enrolled: 4,
      enrollFailures: 0,
      online: 4,
      counterfeit: 1,
    });
    expect(summary.fleet.heartbeats).toBeGreaterThan(4 * 5);
    expect(summary.server).toMatchObject({ checked: 4, connected: 4, verified: 3, counterfeitCaught: 1 });
    // The exit status was 0 (execFile rejects otherwise): the server trusts the honest three and caught the fourth.
    expect(summary.verdict).toEqual({
      ok: true,
      honestNotEnrolled: 0,
      honestProblems: [],
      counterfeitMissed: [],
    });
  }, 90_000);

  it("catches counterfeits that lie about their memory, and verifies the honest devices beside them", async () => {
    const adminKey = readFileSync(join(dataDir, "admin-api-key"), "utf8").trim();
    const { stdout } = await run(
      process.execPath,
      [
        join(REPO_ROOT, "apps/cli/bin/ignis.js"),
        "sim",
        ...["--server", url, "--api-key", adminKey, "--devices", "3", "--counterfeit", "1", "--lie", "vram"],
        ...["--profile", "sim-h100", "--duration", "10", "--json"],
      ],
      { cwd: REPO_ROOT, timeout: 60_000 },
    );
    const summary = JSON.parse(stdout) as SimSummary;
    expect(summary).toMatchObject({ lie: "vram", counterfeit: 1 });
    expect(summary.server).toMatchObject({ checked: 3, verified: 2, counterfeitCaught: 1 });
    expect(summary.verdict).toMatchObject({ ok: true, honestProblems: [], counterfeitMissed: [] });
  }, 90_000);
});
