import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type CommandRunner, runCommand } from "./exec.js";

/** The hard resource limits of the worker process: a container cannot be given more (runc fails with EPERM). */
export interface HostLimits {
  openFiles: number;
  processes: number;
  /** Largest file, or null when unlimited. */
  fileBytes: number | null;
}

/** A container engine that answered, and how it runs containers on this machine. */
export interface Engine {
  kind: "podman" | "docker";
  bin: string;
  version: string;
  /** The OCI runtime containers run with (runc, crun). */
  runtime: string;
  /** `--runtime` to pass, or null for the engine's default. */
  runtimeFlag: string | null;
  rootless: boolean;
  cgroupVersion: 1 | 2;
  /** Controllers the engine can use for containers (memory, pids, cpu ...); rootless v2 needs them delegated. */
  cgroupControllers: string[];
  hostLimits: HostLimits;
  /** NVIDIA GPUs can be handed to containers: CDI specs (podman) or the nvidia runtime (docker). */
  nvidiaReady: boolean;
  /** Docker with `userns-remap`: the host uid and gid of container uid 0; null when docker does not remap. */
  dockerRemap?: { uid: number; gid: number } | null;
}

const UNLIMITED = Number.MAX_SAFE_INTEGER;

/** Parses /proc/self/limits (hard limits); anything unreadable counts as unlimited. */
export function parseHostLimits(text: string): HostLimits {
  const hard = (label: string): number | null => {
    const line = text.split("\n").find((l) => l.startsWith(label));
    const value = line?.slice(label.length).trim().split(/\s+/)[1];
    if (!value || value === "unlimited") return null;
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  };
  return {
    openFiles: hard("Max open files") ?? UNLIMITED,
    processes: hard("Max processes") ?? UNLIMITED,
    fileBytes: hard("Max file size"),
  };
}

/** The worker's hard limits on this machine. */
export function readHostLimits(): HostLimits {
  try {
    return parseHostLimits(readFileSync("/proc/self/limits", "utf8"));
  } catch {
    return { openFiles: UNLIMITED, processes: UNLIMITED, fileBytes: null };
  }
}

interface PodmanInfo {
  host?: {
    ociRuntime?: { name?: string };
    cgroupVersion?: string;
    cgroupControllers?: string[] | null;
    security?: { rootless?: boolean };
  };
  version?: { Version?: string };
}

interface DockerInfo {
  ServerVersion?: string;
  DefaultRuntime?: string;
  CgroupVersion?: string;
  SecurityOptions?: string[] | null;
  Runtimes?: Record<string, unknown> | null;
}

/** Reads `podman info`; undefined when podman is missing or does not work. */
export async function podmanEngine(run: CommandRunner = runCommand): Promise<Engine | string> {
  const result = await run("podman", ["info", "--format", "json"], { timeoutMs: 30_000 });
  if (result.error) return "podman is not installed";
  if (result.code !== 0) return `podman does not work: ${lastLine(result.stderr)}`;
  let info: PodmanInfo;
  try {
    info = JSON.parse(result.stdout) as PodmanInfo;
  } catch {
    return "podman info did not answer JSON";
  }
  return {
    kind: "podman",
    bin: "podman",
    version: info.version?.Version ?? "unknown",
    runtime: info.host?.ociRuntime?.name ?? "unknown",
    runtimeFlag: null,
    rootless: info.host?.security?.rootless === true,
    cgroupVersion: info.host?.cgroupVersion === "v1" ? 1 : 2,
    cgroupControllers: info.host?.cgroupControllers ?? [],
    hostLimits: readHostLimits(),
    nvidiaReady: hasNvidiaCdiSpec(),
  };
}

/** Reads `docker info`; a docker client without a daemon behind it does not count. */
export async function dockerEngine(run: CommandRunner = runCommand): Promise<Engine | string> {
  const result = await run("docker", ["info", "--format", "{{json .}}"], { timeoutMs: 30_000 });
  if (result.error) return "docker is not installed";
  if (result.code !== 0) return `docker does not answer: ${lastLine(result.stderr)}`;
  let info: DockerInfo;
  try {
    info = JSON.parse(result.stdout) as DockerInfo;
  } catch {
    return "docker info did not answer JSON";
  }
  if (!info.ServerVersion) return "the docker daemon does not answer";
  return {
    kind: "docker",
    bin: "docker",
    version: info.ServerVersion,
    runtime: info.DefaultRuntime ?? "runc",
    runtimeFlag: null,
    rootless: (info.SecurityOptions ?? []).some((o) => o.includes("rootless")),
    cgroupVersion: info.CgroupVersion === "1" ? 1 : 2,
    cgroupControllers: ["cpu", "memory", "pids"],
    hostLimits: readHostLimits(),
    nvidiaReady: Object.keys(info.Runtimes ?? {}).includes("nvidia"),
    dockerRemap: (info.SecurityOptions ?? []).some((o) => o.includes("name=userns")) ? dockremapIds() : null,
  };
}

/** Finds the engine to run jobs with: the one asked for, or podman, then docker. */
export async function detectEngine(
  prefer: "auto" | "podman" | "docker",
  run: CommandRunner = runCommand,
): Promise<Engine | string> {
  if (prefer === "podman") return podmanEngine(run);
  if (prefer === "docker") return dockerEngine(run);
  const podman = await podmanEngine(run);
  if (typeof podman !== "string") return podman;
  const docker = await dockerEngine(run);
  if (typeof docker !== "string") return docker;
  return `no container engine: ${podman}; ${docker}`;
}

/** The first subordinate uid and gid of docker's `dockremap` user, as `userns-remap: default` uses them. */
export function dockremapIds(
  subuid = readText("/etc/subuid"),
  subgid = readText("/etc/subgid"),
): { uid: number; gid: number } | null {
  const first = (text: string) => {
    const line = text.split("\n").find((l) => l.startsWith("dockremap:"));
    const n = Number(line?.split(":")[1]);
    return Number.isInteger(n) && n > 0 ? n : null;
  };
  const uid = first(subuid);
  const gid = first(subgid);
  return uid !== null && gid !== null ? { uid, gid } : null;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Where CDI specs live; `nvidia-ctk cdi generate` writes the NVIDIA one. */
export const CDI_DIRS = ["/etc/cdi", "/var/run/cdi"];

/** True when a CDI spec names NVIDIA GPUs, so podman can give a container `nvidia.com/gpu=...`. */
export function hasNvidiaCdiSpec(dirs: readonly string[] = CDI_DIRS): boolean {
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!/\.(ya?ml|json)$/.test(name)) continue;
      try {
        if (readFileSync(join(dir, name), "utf8").includes("nvidia.com")) return true;
      } catch {
        // unreadable: not ours to use
      }
    }
  }
  return false;
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return (lines[lines.length - 1] ?? "").slice(0, 200);
}
