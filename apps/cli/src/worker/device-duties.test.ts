import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobStartMessage, JobStatusMessage, WorkerMessage } from "@ignis/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../../../server/src/testing/wait-for.js";
import { type JobRuntimeChoice, noJobRuntime } from "../jobs/job-runtime.js";
import { createSimulatedDeviceRunner } from "../jobs/subprocess-runtime.js";
import { createDeviceDuties } from "./device-duties.js";

const stateDir = mkdtempSync(join(tmpdir(), "ignis-duties-"));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

function startMessage(jobId: string, args: string[]): JobStartMessage {
  return {
    type: "job.start",
    jobId,
    clusterId: "cls_aaaaaaaaaaaaaaaaaaaaaaaaaa",
    rank: 0,
    worldSize: 1,
    command: "node",
    args,
    env: {},
    image: null,
    archive: null,
    deadline: new Date(Date.now() + 60_000).toISOString(),
    logLimitBytes: 1024 * 1024,
  };
}

/** A sandbox check still running: resolve it when the test says so. */
function pendingCheck() {
  let resolve!: (choice: JobRuntimeChoice) => void;
  const promise = new Promise<JobRuntimeChoice>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function duties(jobs: Promise<JobRuntimeChoice>) {
  const sent: WorkerMessage[] = [];
  const d = createDeviceDuties({
    profileId: "sim-cpu",
    stateDir,
    send: (m) => sent.push(m),
    log: () => {},
    jobs,
  });
  const statuses = (jobId: string) =>
    sent.filter((m): m is JobStatusMessage => m.type === "job.status" && m.jobId === jobId);
  return { d, sent, statuses };
}

describe("a worker's duties while its sandbox is still being checked", () => {
  it("holds job orders until the check ends, then runs them in order with the runtime it found", async () => {
    const check = pendingCheck();
    const { d, statuses } = duties(check.promise);
    const first = "job_aaaaaaaaaaaaaaaaaaaaaaaaaa";
    const second = "job_bbbbbbbbbbbbbbbbbbbbbbbbbb";
    d.job(startMessage(first, ["-e", "console.log('one')"]));
    d.job(startMessage(second, ["-e", "console.log('two')"]));
    // Nothing is started (nor refused) while the check runs: give the event loop several turns to prove it.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(statuses(first)).toEqual([]);
    expect(statuses(second)).toEqual([]);

    check.resolve(createSimulatedDeviceRunner());
    for (const id of [first, second]) {
      await waitFor(`job ${id} to end`, () => statuses(id).find((s) => s.state === "exited"), {
        timeoutMs: 20_000,
        everyMs: 25,
      });
    }
    expect(statuses(first).at(-1)).toMatchObject({
      state: "exited",
      exitCode: 0,
      runner: "simulated-subprocess",
    });
    await d.close();
  });

  it("refuses the held orders with sandbox_unavailable when the check finds no sandbox", async () => {
    const check = pendingCheck();
    const { d, statuses } = duties(check.promise);
    const id = "job_cccccccccccccccccccccccccc";
    d.job(startMessage(id, ["-e", "0"]));
    check.resolve(noJobRuntime("no container engine found"));
    const end = await waitFor("the refusal", () => statuses(id).find((s) => s.state !== "starting"), {
      timeoutMs: 10_000,
      everyMs: 25,
    });
    expect(end).toMatchObject({ state: "failed", reason: "sandbox_unavailable" });
    await d.close();
  });

  it("starts nothing held once the worker has stopped", async () => {
    const check = pendingCheck();
    const { d, sent } = duties(check.promise);
    d.job(startMessage("job_dddddddddddddddddddddddddd", ["-e", "0"]));
    await d.close();
    check.resolve(createSimulatedDeviceRunner());
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([]);
  });
});
