import { describe, expect, it } from "vitest";
import { type ContainerSpec, containerCreateArgs, envFileText, gpuFlags } from "./container-args.js";
import type { Engine } from "./engine.js";

const podman: Engine = {
  kind: "podman",
  bin: "podman",
  version: "4.3.1",
  runtime: "runc",
  runtimeFlag: "runc",
  rootless: false,
  cgroupVersion: 2,
  cgroupControllers: ["cpu", "memory", "pids"],
  hostLimits: { openFiles: 20_000, processes: 90_000, fileBytes: null },
  nvidiaReady: true,
};

const spec: ContainerSpec = {
  jobId: `job_${"a".repeat(26)}`,
  deviceId: `dev_${"b".repeat(26)}`,
  image: "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime",
  command: "python",
  args: ["train.py", "--privileged"],
  scratchDir: "/state/jobs/job-x",
  envFile: "/state/job-env/job-x.env",
  limits: {
    cpus: 8,
    memoryBytes: 32 * 1024 ** 3,
    pids: 4096,
    scratchBytes: 100 * 1024 ** 3,
    tmpBytes: 1024 ** 3,
    openFiles: 65_536,
    killGraceSeconds: 10,
  },
  user: "1000:1000",
  uidBase: 1_000_000_000,
  publishPorts: [23456],
  gpu: { vendor: "nvidia", devices: "all" },
  timeoutSeconds: 3600,
  pull: "missing",
};

describe("the container a job runs in", () => {
  it("hands over the device's GPUs only: podman through CDI, docker through --gpus, AMD as devices", () => {
    expect(gpuFlags(podman, { vendor: "nvidia", devices: "all" })).toEqual([
      "--device",
      "nvidia.com/gpu=all",
    ]);
    expect(gpuFlags(podman, { vendor: "nvidia", devices: [1, 3] })).toEqual([
      "--device",
      "nvidia.com/gpu=1",
      "--device",
      "nvidia.com/gpu=3",
    ]);
    expect(gpuFlags({ kind: "docker" }, { vendor: "nvidia", devices: "all" })).toEqual(["--gpus", "all"]);
    expect(gpuFlags({ kind: "docker" }, { vendor: "nvidia", devices: [0, 2] })).toEqual([
      "--gpus",
      '"device=0,2"',
    ]);
    expect(gpuFlags(podman, { vendor: "amd", devices: [1] })).toEqual([
      "--device",
      "/dev/kfd",
      "--device",
      "/dev/dri/renderD129",
    ]);
    expect(gpuFlags(podman, { vendor: "none", devices: "all" })).toEqual([]);
  });

  it("drops every privilege, maps the job to a uid range of its own and mounts only its scratch", () => {
    const args = containerCreateArgs(podman, spec);
    const pairs = args.slice(0, args.indexOf("--")).join(" ");
    for (const flag of [
      "--init",
      "--user 1000:1000",
      "--uidmap 0:1000000000:65536",
      "--gidmap 0:1000000000:65536",
      "--cap-drop=ALL",
      "--security-opt no-new-privileges",
      "--pid private",
      "--read-only",
      "--network bridge",
      "--publish 23456:23456/tcp",
      "--memory 34359738368",
      "--memory-swap 34359738368",
      "--pids-limit 4096",
      "--ulimit nofile=20000:20000",
      "--http-proxy=false",
      "--log-driver none",
      "--runtime runc",
      "--device nvidia.com/gpu=all",
    ]) {
      expect(pairs).toContain(flag);
    }
    expect(args.filter((a) => a === "--volume")).toHaveLength(1);
    expect(args[args.indexOf("--volume") + 1]).toBe("/state/jobs/job-x:/work:rw,U,Z");
    expect(pairs).not.toMatch(/--privileged|seccomp=unconfined|--cap-add|--env-host|--network host/);
  });

  it("puts the image after --, so the job's own arguments and the image can never be read as engine flags", () => {
    const args = containerCreateArgs(podman, spec);
    expect(args.slice(args.indexOf("--"))).toEqual(["--", spec.image, "python", "train.py", "--privileged"]);
    for (const image of ["--privileged", "-v=/:/host", "a b"]) {
      expect(() => containerCreateArgs(podman, { ...spec, image })).toThrow("not an image reference");
    }
    expect(() => containerCreateArgs(podman, { ...spec, user: "0:0" })).toThrow("never run as root");
  });

  it("passes variables in an env file, never on the command line, and refuses values it cannot represent", () => {
    const args = containerCreateArgs(podman, spec);
    expect(args).toContain("--env-file");
    expect(args).not.toContain("--env");
    expect(envFileText({ HF_TOKEN: "s3cret = x", EMPTY: "" })).toBe("HF_TOKEN=s3cret = x\nEMPTY=\n");
    expect(() => envFileText({ KEY: "a\nb" })).toThrow("line break");
    expect(() => envFileText({ "BAD NAME": "x" })).toThrow("not a variable name");
  });

  it("lets rootless podman keep the host loopback out of reach", () => {
    const args = containerCreateArgs({ ...podman, rootless: true }, spec);
    expect(args.join(" ")).toContain("--network slirp4netns:allow_host_loopback=false,enable_ipv6=false");
    expect(args).not.toContain("--uidmap");
  });
});
