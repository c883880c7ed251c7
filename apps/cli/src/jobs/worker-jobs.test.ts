import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeDeviceState } from "../worker/worker-state.js";
import { isJobRuntime } from "./job-runtime.js";
import { prepareWorkerJobs } from "./worker-jobs.js";

const stateDir = mkdtempSync(join(tmpdir(), "ignis-worker-jobs-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
writeDeviceState(stateDir, {
  server: "http://127.0.0.1:1",
  deviceId: `dev_${"c".repeat(26)}`,
  keyId: `dk_${"d".repeat(26)}`,
  publicKey: "A".repeat(43),
  profile: "sim-a100",
  enrolledAt: new Date().toISOString(),
});

describe("how ignis worker run sets up its jobs", () => {
  it("without a working engine runs no job, says why in its log and reports sandbox_unavailable", async () => {
    const lines: string[] = [];
    const jobs = await prepareWorkerJobs({
      stateDir,
      flags: { engine: "docker" },
      log: (l) => lines.push(l),
    });
    expect(isJobRuntime(jobs.jobs)).toBe(false);
    expect(jobs.metadata.sandbox).toMatchObject({ kind: "unavailable", reason: "sandbox_unavailable" });
    expect(lines.join("\n")).toContain("sandbox unavailable:");
    expect(lines.join("\n")).toContain("not hired");
    // Without container jobs there is no namespace to give an overlay's tun to: no cluster overlay either.
    expect(jobs.metadata.mesh).toEqual({ kind: "unavailable", message: "jobs do not run in containers" });
  });

  it("with --unsafe-subprocess-jobs says loudly that there is no sandbox and shows it on the device", async () => {
    const lines: string[] = [];
    const jobs = await prepareWorkerJobs({
      stateDir,
      flags: { unsafeSubprocessJobs: true },
      log: (l) => lines.push(l),
    });
    expect(isJobRuntime(jobs.jobs) && jobs.jobs.runner).toBe("unsafe-subprocess");
    expect(isJobRuntime(jobs.jobs) && jobs.jobs.sandboxed).toBe(false);
    expect(jobs.metadata.sandbox).toMatchObject({
      kind: "unsafe-subprocess",
      reason: "unsafe_subprocess_jobs",
    });
    expect(lines.join("\n")).toContain("WITHOUT ANY SANDBOX");
    expect(jobs.metadata.mesh).toMatchObject({ kind: "unavailable" });
    expect(lines.join("\n")).toContain("cluster overlay unavailable: jobs do not run in containers");
  });

  it("refuses a job image flag that is not an image reference", async () => {
    await expect(
      prepareWorkerJobs({ stateDir, flags: { jobImage: "--privileged" }, log: () => undefined }),
    ).rejects.toThrow();
  });
});
