import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type {
  JobLogMessage,
  JobStartMessage,
  JobStatusMessage,
  JobWorkerMessage,
  MeshLinksMessage,
} from "@ignis/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../server/src/testing/wait-for.js";
import { createJobHost } from "./job-host.js";
import { type JobRuntimeChoice, noJobRuntime } from "./job-runtime.js";
import { createSimulatedDeviceRunner } from "./subprocess-runtime.js";
import { tarOf } from "./tar-pack.js";

const workDir = mkdtempSync(join(tmpdir(), "ignis-jobhost-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

let n = 0;
function jobId(): string {
  n++;
  const letters = String(n).replace(/[0-9]/g, (d) => "abcdefghij"[Number(d)]!);
  return `job_${letters.padStart(26, "z")}`;
}

function startMessage(over: Partial<JobStartMessage>): JobStartMessage {
  return {
    type: "job.start",
    jobId: jobId(),
    clusterId: "cls_aaaaaaaaaaaaaaaaaaaaaaaaaa",
    rank: 0,
    worldSize: 1,
    command: "node",
    args: ["-e", "console.log('hello')"],
    env: {},
    image: null,
    archive: null,
    deadline: new Date(Date.now() + 60_000).toISOString(),
    logLimitBytes: 1024 * 1024,
    ...over,
  };
}

function harness(runtime: JobRuntimeChoice = createSimulatedDeviceRunner()) {
  const sent: (JobWorkerMessage | MeshLinksMessage)[] = [];
  const host = createJobHost({ send: (m) => sent.push(m), workDir, runtime });
  const status = (id: string, final: boolean, timeoutMs = 20_000): Promise<JobStatusMessage> =>
    waitFor(
      `job ${id} to report ${final ? "its end" : "running"}`,
      () =>
        sent.find(
          (m): m is JobStatusMessage =>
            m.type === "job.status" &&
            m.jobId === id &&
            (final ? !["starting", "running"].includes(m.state) : m.state === "running"),
        ),
      { timeoutMs, everyMs: 25 },
    );
  // The final status is sent once the job is cleaned up and its last output flushed.
  const finalStatus = (id: string, timeoutMs?: number) => status(id, true, timeoutMs);
  const runningStatus = (id: string) => status(id, false);
  const output = (id: string, stream = "stdout") =>
    sent
      .filter((m): m is JobLogMessage => m.type === "job.log" && m.jobId === id && m.stream === stream)
      .map((m) => m.data)
      .join("");
  return { sent, host, finalStatus, runningStatus, output };
}

describe("the worker's job host", () => {
  it("runs a subprocess with the rendezvous variables and reports its output and exit code", async () => {
    const h = harness();
    const msg = startMessage({
      args: [
        "-e",
        "console.log('rank', process.env.IGNIS_RANK, 'of', process.env.IGNIS_WORLD_SIZE); process.exit(3)",
      ],
      env: { IGNIS_RANK: "2", IGNIS_WORLD_SIZE: "4" },
    });
    h.host.handle(msg);
    const status = await h.finalStatus(msg.jobId);
    expect(status).toMatchObject({ state: "exited", exitCode: 3, runner: "simulated-subprocess" });
    expect(h.output(msg.jobId)).toBe("rank 2 of 4\n");
    const seqs = h.sent
      .filter((m) => m.type === "job.log" && m.jobId === msg.jobId)
      .map((m) => (m as JobLogMessage).seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it("gives the job a clean environment, its scratch directory as home, and removes the scratch afterwards", async () => {
    const h = harness();
    const msg = startMessage({
      args: [
        "-e",
        "console.log(JSON.stringify({ keys: Object.keys(process.env).sort(), home: process.env.HOME, cwd: process.cwd() }))",
      ],
      env: { MY_VAR: "x" },
    });
    h.host.handle(msg);
    await h.finalStatus(msg.jobId);
    const seen = JSON.parse(h.output(msg.jobId)) as { keys: string[]; home: string; cwd: string };
    expect(seen.keys).toEqual(["HOME", "LANG", "MY_VAR", "PATH", "TMPDIR"]);
    expect(seen.home).toBe(seen.cwd);
    expect(seen.cwd.startsWith(workDir)).toBe(true);
    expect(readdirSync(workDir).filter((d) => d.startsWith(msg.jobId))).toEqual([]);
  });

  it("unpacks the working-directory archive before running and skips entries that escape it", async () => {
    const h = harness();
    const tar = tarOf([
      { path: "app/main.js", data: "console.log(require('fs').readFileSync('app/data.txt','utf8'))" },
      { path: "app/data.txt", data: "from the archive" },
      { path: "../escape.txt", data: "nope" },
    ]);
    const msg = startMessage({ args: ["app/main.js"], archive: gzipSync(tar).toString("base64") });
    h.host.handle(msg);
    expect(await h.finalStatus(msg.jobId)).toMatchObject({ state: "exited", exitCode: 0 });
    expect(h.output(msg.jobId)).toBe("from the archive\n");
  });

  it("stops a job on request and kills it at the rental's deadline", async () => {
    const h = harness();
    const forever = ["-e", "setInterval(() => {}, 1000)"];
    const stopped = startMessage({ args: forever });
    // Whether the deadline passes while the job runs or before it could start, it ends the job as stopped.
    const expiring = startMessage({ args: forever, deadline: new Date(Date.now() + 1500).toISOString() });
    h.host.handle(stopped);
    h.host.handle(expiring);
    await h.runningStatus(stopped.jobId);
    h.host.handle({ type: "job.stop", jobId: stopped.jobId, reason: "cancelled" });
    expect(await h.finalStatus(stopped.jobId)).toMatchObject({ state: "stopped", signal: "SIGTERM" });
    expect(await h.finalStatus(expiring.jobId)).toMatchObject({ state: "stopped", reason: "rental_ended" });
    expect(h.output(expiring.jobId, "system")).toContain("rental_ended");
    expect(h.host.running()).toEqual([]);
  });

  it("reports a stop that arrives before the job could start as stopped, not failed", async () => {
    const h = harness();
    const msg = startMessage({ args: ["-e", "setInterval(() => {}, 1000)"] });
    h.host.handle(msg);
    h.host.handle({ type: "job.stop", jobId: msg.jobId, reason: "cancelled" });
    expect(await h.finalStatus(msg.jobId)).toMatchObject({ state: "stopped" });
  });

  it("runs no job on a device without a sandbox and says why", async () => {
    const h = harness(noJobRuntime("podman is not installed"));
    const msg = startMessage({});
    h.host.handle(msg);
    expect(await h.finalStatus(msg.jobId)).toMatchObject({
      state: "failed",
      reason: "sandbox_unavailable",
      error: expect.stringContaining("podman is not installed"),
    });
  });

  it("caps the output it forwards and says so", async () => {
    const h = harness();
    const msg = startMessage({
      args: ["-e", "process.stdout.write('x'.repeat(50000))"],
      logLimitBytes: 1000,
    });
    h.host.handle(msg);
    await h.finalStatus(msg.jobId);
    expect(h.output(msg.jobId)).toBe("x".repeat(1000));
    expect(h.output(msg.jobId, "system")).toContain("output limit of 1000 bytes reached");
  });

  it("reports a command that cannot start as failed, and answers a repeated start with the same outcome", async () => {
    const h = harness();
    const msg = startMessage({ command: "/nonexistent/program", args: [] });
    h.host.handle(msg);
    const status = await h.finalStatus(msg.jobId);
    expect(status.state).toMatch(/failed|exited/);
    const before = h.sent.length;
    h.host.handle(msg);
    expect(h.sent.slice(before)).toEqual([status]);
  });

  it("refuses an image job on the simulated-device runner, which has no container engine", async () => {
    const h = harness();
    const msg = startMessage({ image: "python:3.12" });
    h.host.handle(msg);
    expect(await h.finalStatus(msg.jobId)).toMatchObject({
      state: "failed",
      error: expect.stringContaining("no container engine"),
    });
  });

  it("refuses a start order whose image could be read as an engine flag", async () => {
    const h = harness();
    const msg = startMessage({ image: "--privileged" });
    h.host.handle(msg);
    expect(await h.finalStatus(msg.jobId)).toMatchObject({ state: "failed", reason: "invalid_job" });
  });
});
