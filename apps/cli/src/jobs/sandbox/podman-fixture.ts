import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  JobLogMessage,
  JobStartMessage,
  JobStatusMessage,
  JobWorkerMessage,
  MeshLinksMessage,
} from "@ignis/protocol";
import { createJobHost, type JobHost } from "../job-host.js";
import type { JobRuntime } from "../job-runtime.js";
import type { LimitCaps } from "../limits.js";
import { type CommandResult, type CommandRunner, runCommand } from "./exec.js";
import { buildJobImage } from "./job-image.js";
import { openSandbox } from "./open-sandbox.js";
import { SandboxConfig } from "./sandbox-config.js";

/** Why the podman tests cannot run here, or null when podman answers and they run as root. */
export async function podmanMissing(): Promise<string | null> {
  // The tests check the rootful layout (the device's own host uid range, host processes by uid).
  if (process.getuid?.() !== 0) return "the sandbox tests run rootful podman: run them as root";
  const info = await runCommand("podman", ["info", "--format", "{{.Host.OCIRuntime.Name}}"], {
    timeoutMs: 30_000,
  });
  if (info.error) return "podman is not installed (apt-get install -y podman runc busybox-static)";
  if (info.code !== 0) return `podman does not work here: ${info.stderr.trim().slice(0, 200)}`;
  return null;
}

/** A sandbox over real podman for tests: a fresh image tag and state folder, every engine command recorded. */
export interface PodmanSandbox {
  stateDir: string;
  deviceId: string;
  image: string;
  runtime: JobRuntime;
  /** Every command the sandbox ran, argv and stdin, to check that no secret went through them. */
  commands: { argv: string[]; input: string; cwd: string | undefined }[];
  /**
   * A fault to inject: when set and it answers for a command, the sandbox gets that answer and the command is not
   * run (an engine that answers 0 to a stop that did not take, say). Only commands run through the runner.
   */
  intercept: ((argv: readonly string[]) => CommandResult | undefined) | undefined;
  close(): Promise<void>;
}

/** Builds a tiny job image from busybox-static and opens a sandbox on it (a second or two). */
export async function openPodmanSandbox(config: Partial<SandboxConfig> = {}): Promise<PodmanSandbox> {
  const stateDir = mkdtempSync(join(tmpdir(), "ignis-sandbox-"));
  const image = `localhost/ignis-job-test:${randomBytes(4).toString("hex")}`;
  const deviceId = `dev_${randomBytes(13).toString("hex").slice(0, 26)}`;
  const commands: PodmanSandbox["commands"] = [];
  const faults: Pick<PodmanSandbox, "intercept"> = { intercept: undefined };
  const run: CommandRunner = (bin, args, options) => {
    const input = options?.input;
    commands.push({
      argv: [bin, ...args],
      input: input === undefined ? "" : input.toString(),
      cwd: options?.cwd,
    });
    const injected = faults.intercept?.([bin, ...args]);
    return injected ? Promise.resolve(injected) : runCommand(bin, args, options);
  };
  await buildJobImage({ engine: { bin: "podman" }, tag: image });
  const opened = await openSandbox({
    stateDir,
    deviceId,
    config: SandboxConfig.parse({ jobImage: image, scratchCheckSeconds: 0.2, ...config }),
    gpuVendor: "cpu",
    log: () => undefined,
    run,
  });
  if (!("start" in opened.runtime)) throw new Error(`sandbox unavailable: ${opened.runtime.unavailable}`);
  return {
    stateDir,
    deviceId,
    image,
    runtime: opened.runtime,
    commands,
    get intercept() {
      return faults.intercept;
    },
    set intercept(fault) {
      faults.intercept = fault;
    },
    async close() {
      await runCommand("podman", ["rmi", "--force", image]).catch((): CommandResult | undefined => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

let n = 0;
/** A fresh job id. */
export function testJobId(): string {
  n++;
  return `job_${`${randomBytes(8).toString("hex")}${n}`
    .replace(/[^a-z0-9]/g, "a")
    .padEnd(26, "z")
    .slice(0, 26)}`;
}

/** A job host over a sandbox, with small limits, and helpers that wait for what it reports. */
export function sandboxHost(sandbox: PodmanSandbox, caps: LimitCaps = {}) {
  const sent: (JobWorkerMessage | MeshLinksMessage)[] = [];
  const host: JobHost = createJobHost({
    send: (m) => sent.push(m),
    workDir: join(sandbox.stateDir, "jobs"),
    runtime: sandbox.runtime,
    caps: {
      memoryBytes: 128 * 1024 ** 2,
      pids: 64,
      scratchBytes: 64 * 1024 ** 2,
      killGraceSeconds: 2,
      ...caps,
    },
  });
  const finalStatus = async (id: string, timeoutMs = 60_000): Promise<JobStatusMessage> => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const done = sent.find(
        (m): m is JobStatusMessage =>
          m.type === "job.status" && m.jobId === id && !["starting", "running"].includes(m.state),
      );
      if (done) return done;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`job ${id} did not finish`);
  };
  const running = async (id: string, timeoutMs = 60_000) => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (sent.some((m) => m.type === "job.status" && m.jobId === id && m.state === "running")) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`job ${id} did not start`);
  };
  const output = (id: string, stream = "stdout") =>
    sent
      .filter((m): m is JobLogMessage => m.type === "job.log" && m.jobId === id && m.stream === stream)
      .map((m) => m.data)
      .join("");
  /** Runs `script` with sh in the default job image and resolves with its final status and output. */
  const runScript = async (script: string, over: Partial<JobStartMessage> = {}) => {
    const message: JobStartMessage = {
      type: "job.start",
      jobId: testJobId(),
      clusterId: `cls_${"a".repeat(26)}`,
      rank: 0,
      worldSize: 1,
      command: "sh",
      args: ["-c", script],
      env: {},
      image: null,
      archive: null,
      deadline: new Date(Date.now() + 120_000).toISOString(),
      logLimitBytes: 1024 * 1024,
      ...over,
    };
    host.handle(message);
    const status = await finalStatus(message.jobId);
    return {
      status,
      stdout: output(message.jobId),
      stderr: output(message.jobId, "stderr"),
      jobId: message.jobId,
    };
  };
  return { sent, host, finalStatus, running, output, runScript };
}
