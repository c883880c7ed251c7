import { isImageReference } from "@ignis/protocol";
import type { EffectiveLimits } from "../job-runtime.js";
import type { Engine } from "./engine.js";

/** Label every job container carries, with the job's id: how the worker finds its containers again. */
export const JOB_LABEL = "ignis.job";
/** Label naming the device whose worker owns the container (several workers may share one engine). */
export const DEVICE_LABEL = "ignis.device";
/** The job's working directory inside the container (its scratch folder). */
export const WORK_DIR = "/work";
/** Container uids a user namespace maps (container uid 0..65535). */
export const USERNS_SIZE = 65_536;

/** The GPUs a job gets: the device's, and only those. */
export interface GpuGrant {
  vendor: "nvidia" | "amd" | "none";
  /** "all" or the indices of the device's GPUs on this machine. */
  devices: "all" | number[];
}

/** Everything the `create` command line is built from. */
export interface ContainerSpec {
  jobId: string;
  deviceId: string;
  image: string;
  command: string;
  args: string[];
  scratchDir: string;
  /** A 0600 file of `NAME=value` lines: variable values never appear on a command line. */
  envFile: string;
  limits: EffectiveLimits;
  /** The user the job runs as inside the container (never root). */
  user: string;
  /** Rootful podman: the host uid of container uid 0 (a range no host account uses). */
  uidBase: number | null;
  publishPorts: number[];
  gpu: GpuGrant;
  /** Seconds after which the engine itself kills the container, even if the worker is gone. */
  timeoutSeconds: number;
  /** Whether the image must already be on the machine (the default job image is never pulled). */
  pull: "never" | "missing";
  /** The network to join instead of the engine's own per-container one (docker's network holder). */
  network?: string;
}

/** The container's name, so it can be stopped by name even if the engine's client process is gone. */
export function containerName(jobId: string): string {
  return `ignis-${jobId}`;
}

/** The flags that give a container the device's GPUs: podman through CDI, docker through --gpus, AMD as devices. */
export function gpuFlags(engine: Pick<Engine, "kind">, gpu: GpuGrant): string[] {
  if (gpu.vendor === "none") return [];
  const indices = gpu.devices === "all" ? null : gpu.devices.filter((i) => Number.isInteger(i) && i >= 0);
  if (gpu.vendor === "nvidia") {
    if (engine.kind === "docker") return ["--gpus", indices ? `"device=${indices.join(",")}"` : "all"];
    return (indices ? indices.map(String) : ["all"]).flatMap((i) => ["--device", `nvidia.com/gpu=${i}`]);
  }
  // AMD: the compute interface and the render nodes (renderD128 is the first GPU).
  const render = indices ? indices.map((i) => `/dev/dri/renderD${128 + i}`) : ["/dev/dri"];
  return ["--device", "/dev/kfd", ...render.flatMap((d) => ["--device", d])];
}

function positive(n: number): number {
  return Math.max(1, Math.floor(n));
}

/**
 * The engine's `create` arguments for a job: every isolation flag, the rental's limits, the scratch folder as the
 * only host path, variables through an env file, and `--` before the image so nothing after it can be a flag.
 */
export function containerCreateArgs(engine: Engine, spec: ContainerSpec): string[] {
  if (!isImageReference(spec.image))
    throw new Error(`'${spec.image.slice(0, 80)}' is not an image reference`);
  if (/^(0|root)(:|$)/.test(spec.user)) throw new Error("jobs never run as root");
  const { limits } = spec;
  const podman = engine.kind === "podman";
  const nofile = positive(Math.min(limits.openFiles, engine.hostLimits.openFiles));
  const nproc = positive(Math.min(limits.pids, engine.hostLimits.processes));
  const fsize =
    engine.hostLimits.fileBytes === null
      ? limits.scratchBytes
      : Math.min(limits.scratchBytes, engine.hostLimits.fileBytes);
  const args = [
    "create",
    "--name",
    containerName(spec.jobId),
    "--label",
    `${JOB_LABEL}=${spec.jobId}`,
    "--label",
    `${DEVICE_LABEL}=${spec.deviceId}`,
    ...(engine.runtimeFlag ? ["--runtime", engine.runtimeFlag] : []),
    // A tiny init as PID 1 reaps zombies and forwards signals; when it exits, the kernel kills every process
    // left in the job's PID namespace (a `setsid` child included).
    "--init",
    "--user",
    spec.user,
    ...(podman && !engine.rootless && spec.uidBase !== null
      ? ["--uidmap", `0:${spec.uidBase}:${USERNS_SIZE}`, "--gidmap", `0:${spec.uidBase}:${USERNS_SIZE}`]
      : []),
    "--cap-drop=ALL",
    "--security-opt",
    "no-new-privileges",
    // The default seccomp profile applies: no flag turns it off.
    ...(podman
      ? ["--pid", "private", "--ipc", "private", "--uts", "private", "--systemd=false"]
      : ["--ipc", "private"]),
    "--read-only",
    ...(podman ? ["--read-only-tmpfs=false"] : []),
    "--tmpfs",
    `/tmp:rw,nosuid,nodev,size=${positive(limits.tmpBytes)},mode=1777`,
    "--volume",
    `${spec.scratchDir}:${WORK_DIR}:rw${podman ? ",U,Z" : ""}`,
    "--workdir",
    WORK_DIR,
    "--env-file",
    spec.envFile,
    ...(podman ? ["--http-proxy=false"] : []),
    "--network",
    spec.network ??
      (podman && engine.rootless ? "slirp4netns:allow_host_loopback=false,enable_ipv6=false" : "bridge"),
    ...spec.publishPorts.flatMap((p) => ["--publish", `${p}:${p}/tcp`]),
    "--cpus",
    String(Math.max(0.01, Math.round(limits.cpus * 100) / 100)),
    "--memory",
    String(positive(limits.memoryBytes)),
    "--memory-swap",
    String(positive(limits.memoryBytes)),
    "--pids-limit",
    String(positive(limits.pids)),
    "--ulimit",
    `nofile=${nofile}:${nofile}`,
    "--ulimit",
    `nproc=${nproc}:${nproc}`,
    "--ulimit",
    "core=0:0",
    "--ulimit",
    `fsize=${positive(fsize)}:${positive(fsize)}`,
    // Output goes to the worker through the attached streams, not into a log file on the host.
    "--log-driver",
    "none",
    ...(podman ? ["--timeout", String(positive(spec.timeoutSeconds))] : []),
    "--pull",
    spec.pull,
    ...gpuFlags(engine, spec.gpu),
    "--",
    spec.image,
    spec.command,
    ...spec.args,
  ];
  return args;
}

/** Lines of an env file: one `NAME=value` each; values with line breaks cannot be represented and are refused. */
export function envFileText(env: Record<string, string>): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new Error(`'${name.slice(0, 64)}' is not a variable name`);
    if (/[\r\n\0]/.test(value)) throw new Error(`the value of ${name} has a line break`);
    lines.push(`${name}=${value}`);
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
