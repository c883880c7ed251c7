import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../apps/server/src/testing/test-server.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const GUIDE = join(REPO_ROOT, "docs/getting-started.md");
const BLOCK_END = "__ignis_first_hour_block_done__";

/** The guide's `bash` blocks, in order: what a newcomer types (`sh` blocks, the clone and `npm ci`, are not run). */
function guideBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** A line `KEY=value` for each variable the guide sets, printed after each block so the test can check it. */
const REPORT = ["IGNIS_SERVER", "DEVICE", "CLUSTER", "SUPPLIER", "CUSTOMER"]
  .map((name) => `echo "${name}=\${${name}:-}"`)
  .join("; ");

// A newcomer's first hour, run exactly as docs/getting-started.md writes it: one bash at the repository root,
// with a fresh home folder (so a fresh data dir, worker state and npm cache), a free port, and a temporary npm
// global prefix first on PATH (so `npm install --global` and the bare `ignis` are the guide's, not this machine's).
describe("docs/getting-started.md, run as written", () => {
  const home = mkdtempSync(join(tmpdir(), "ignis-first-hour-"));
  let group: number | undefined;
  afterAll(() => {
    // The server and the worker were started with `&` in the guide: stop the whole process group.
    if (group) {
      try {
        process.kill(-group, "SIGTERM");
      } catch {}
    }
    rmSync(home, { recursive: true, force: true });
  });

  it("goes from a fresh server to a customer's cluster logs, each step doing what the guide says", async () => {
    const blocks = guideBlocks(readFileSync(GUIDE, "utf8"));
    expect(blocks.length).toBe(6);
    const script = join(home, "first-hour.sh");
    writeFileSync(
      script,
      [
        "set -euo pipefail",
        ...blocks.map((block) => `${block}\n${REPORT}\necho ${BLOCK_END}`),
        "sleep 0", // the background jobs stay; afterAll stops them
      ].join("\n"),
    );
    const prefix = join(home, "npm-global");
    const port = await freePort();
    const child = spawn("bash", [script], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: `${join(prefix, "bin")}:${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        HOME: home,
        IGNIS_PORT: String(port),
        npm_config_prefix: prefix,
        npm_config_audit: "false",
        npm_config_fund: "false",
        npm_config_update_notifier: "false",
      },
    });
    group = child.pid;
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    const log = (name: string) => {
      try {
        return readFileSync(join(home, name), "utf8").slice(-3000);
      } catch {
        return "(none)";
      }
    };
    const context = `stdout:\n${stdout.slice(-4000)}\nstderr:\n${stderr.slice(-4000)}\nserver log:\n${log("ignis-server.log")}\nworker log:\n${log("ignis-worker.log")}`;
    expect(code, context).toBe(0);

    const steps = stdout.split(`${BLOCK_END}\n`);
    const vars = (step: string) =>
      Object.fromEntries([...step.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    // 1. the server answers on the port it was given
    expect(steps[0]).toContain('{"status":"ok"}');
    expect(vars(steps[0]!).IGNIS_SERVER).toBe(`http://localhost:${port}`);
    // 2. the admin made a supplier
    expect(vars(steps[1]!).SUPPLIER).toMatch(/^usr_/);
    // 3. the packed worker is installed under the temporary prefix and enrolled a device
    expect(vars(steps[2]!).DEVICE).toMatch(/^dev_[a-z2-7]{26}$/);
    // 4. doctor found the machine ready; the device ran, was verified, and the worker said its proof passed
    expect(steps[3]).toMatch(/^sandbox +pass /m);
    expect(steps[3]).toMatch(/^(all checks passed|ready, with \d+ warnings?)$/m);
    expect(steps[3]).toMatch(/proof of GPU passed .*earns rewards/);
    // 5. the customer got 50 credits, in credits
    expect(vars(steps[4]!).CUSTOMER).toMatch(/^usr_/);
    expect(steps[4]).toMatch(/granted 50 credits to usr_\S+; balance 50 credits/);
    // 6. the cluster ran the job and its logs came back
    expect(steps[5]).toMatch(/balance 50 credits/);
    expect(vars(steps[5]!).CLUSTER).toMatch(/^cls_/);
    expect(steps[5]).toContain("[0] hello from rank 0 of 1");
    expect(steps[5]).toMatch(/cls_\S+ completed/);
  }, 600_000);
});
