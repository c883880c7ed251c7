import { detectEngine, type Engine } from "./engine.js";
import { type CommandRunner, runCommand } from "./exec.js";
import { detectFenceTool, type FenceTool } from "./fence.js";
import type { SandboxConfig } from "./sandbox-config.js";

/** What a job sandbox needs on this machine, found; or the first missing part and how to fix it. */
export type SandboxReadiness =
  | { ready: true; engine: Engine; fenceTool: FenceTool }
  | { ready: false; problem: string; fix: string };

/**
 * Looks for everything the job sandbox needs before any container runs: an engine that can isolate jobs here, a
 * firewall tool for the network fence, nsenter, GPU hand-over for NVIDIA, and the default job image. Read-only:
 * it starts, stops and removes nothing, so `ignis doctor` may run it beside a working worker.
 */
export async function sandboxReadiness(
  config: SandboxConfig,
  gpuVendor: string,
  run: CommandRunner = runCommand,
): Promise<SandboxReadiness> {
  const engine = await detectEngine(config.engine, run);
  if (typeof engine === "string") {
    return {
      ready: false,
      problem: engine,
      fix:
        config.engine === "docker"
          ? "install docker (with userns-remap), or set engine to podman in <state>/sandbox.json"
          : "install one: apt-get install -y podman runc",
    };
  }
  const shortcoming = engineShortcoming(engine, process.getuid?.());
  if (shortcoming) return { ready: false, ...shortcoming };
  const fenceTool = await detectFenceTool(run);
  if (!fenceTool) {
    return {
      ready: false,
      problem: "neither nft nor iptables-restore is installed for the jobs' network fence",
      fix: "apt-get install -y nftables",
    };
  }
  if ((await run("nsenter", ["--version"], { timeoutMs: 5000 })).code !== 0) {
    return {
      ready: false,
      problem: "nsenter (util-linux) is not installed",
      fix: "apt-get install -y util-linux",
    };
  }
  if (gpuVendor === "nvidia" && !engine.nvidiaReady) {
    return engine.kind === "podman"
      ? {
          ready: false,
          problem: "no CDI spec for the NVIDIA GPUs",
          fix: "run nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml",
        }
      : { ready: false, problem: "docker has no nvidia runtime", fix: "install nvidia-container-toolkit" };
  }
  const image = await run(engine.bin, ["image", "inspect", "--format", "{{.Id}}", config.jobImage], {
    timeoutMs: 30_000,
  });
  if (image.code !== 0) {
    return {
      ready: false,
      problem: `the default job image ${config.jobImage} is missing`,
      fix: "run ignis worker image build",
    };
  }
  return { ready: true, engine, fenceTool };
}

/** Why this engine cannot sandbox jobs on this machine and what to do, or null when it can. */
export function engineShortcoming(
  engine: Engine,
  uid: number | undefined,
): { problem: string; fix: string } | null {
  if (engine.kind === "docker") {
    if (!engine.dockerRemap) {
      return {
        problem: "docker runs without userns-remap, so a job's uids would be the host's",
        fix: "enable userns-remap or use podman",
      };
    }
    if (uid !== 0) {
      return {
        problem: "with docker the worker must run as root to fence the jobs' network",
        fix: "run the worker as root, or use podman",
      };
    }
  }
  if (engine.rootless && engine.cgroupVersion === 1) {
    return {
      problem: "rootless podman cannot limit memory, CPU or processes on cgroup v1",
      fix: "run the worker as root or boot with cgroup v2",
    };
  }
  const missing = ["memory", "pids", "cpu"].filter((c) => !engine.cgroupControllers.includes(c));
  if (missing.length > 0) {
    return {
      problem: `the engine cannot limit ${missing.join(", ")} (cgroup controllers not delegated)`,
      fix: "delegate the cgroup controllers to this user (systemd Delegate=yes) or run the worker as root",
    };
  }
  return null;
}
