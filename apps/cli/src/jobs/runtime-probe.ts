import { execFile } from "node:child_process";

/** A container engine whose daemon (or, for podman, whose runtime) answered. */
export interface ContainerRuntime {
  kind: "docker" | "podman";
  bin: string;
}

/** What the machine offers to run jobs: a container engine, NVIDIA GPUs, and prlimit for resource limits. */
export interface JobPlatform {
  container: ContainerRuntime | null;
  nvidia: boolean;
  prlimit: boolean;
}

/** Runs a command briefly; resolves true when it exits 0 within the timeout. */
export function answers(bin: string, args: string[], timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, windowsHide: true }, (error) => resolve(!error));
  });
}

/**
 * Finds how this machine can run jobs. A container engine counts only when its daemon answers: an installed
 * docker client with no daemon behind it would fail every job.
 */
export async function probeJobPlatform(): Promise<JobPlatform> {
  const [docker, podman, nvidia, prlimit] = await Promise.all([
    answers("docker", ["version", "--format", "{{.Server.Version}}"]),
    answers("podman", ["info", "--format", "{{.Host.OCIRuntime.Name}}"]),
    answers("nvidia-smi", ["-L"]),
    answers("prlimit", ["--version"]),
  ]);
  const container: ContainerRuntime | null = docker
    ? { kind: "docker", bin: "docker" }
    : podman
      ? { kind: "podman", bin: "podman" }
      : null;
  return { container, nvidia, prlimit };
}

/** The flags that give a container the machine's NVIDIA GPUs, per engine (podman uses CDI device names). */
export function gpuFlags(runtime: ContainerRuntime, nvidia: boolean): string[] {
  if (!nvidia) return [];
  return runtime.kind === "docker" ? ["--gpus", "all"] : ["--device", "nvidia.com/gpu=all"];
}
