import { describe, expect, it } from "vitest";
import { containerArgs, prlimitArgs, subprocessEnv } from "./job-process.js";
import { gpuFlags } from "./runtime-probe.js";

const spec = {
  jobId: `job_${"a".repeat(26)}`,
  command: "python",
  args: ["train.py", "--epochs", "1"],
  env: { IGNIS_RANK: "0", HF_TOKEN: "secret" },
  image: "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime",
  scratchDir: "/tmp/ignis-job-x",
};

describe("how a job process is launched", () => {
  it("gives docker containers the GPUs with --gpus all and podman with the CDI device", () => {
    expect(gpuFlags({ kind: "docker", bin: "docker" }, true)).toEqual(["--gpus", "all"]);
    expect(gpuFlags({ kind: "podman", bin: "podman" }, true)).toEqual(["--device", "nvidia.com/gpu=all"]);
    expect(gpuFlags({ kind: "docker", bin: "docker" }, false)).toEqual([]);
  });

  it("runs the image with the scratch as /work, host networking, and variables passed by name only", () => {
    const args = containerArgs(spec, { kind: "docker", bin: "docker" }, true);
    expect(args.slice(0, 5)).toEqual(["run", "--rm", "--init", "--name", `ignis-${spec.jobId}`]);
    expect(args).toEqual(
      expect.arrayContaining(["--network", "host", "--volume", "/tmp/ignis-job-x:/work", "--gpus", "all"]),
    );
    expect(args.slice(-5)).toEqual([spec.image, "python", "train.py", "--epochs", "1"]);
    expect(args.join(" ")).not.toContain("secret");
    expect(args).toEqual(expect.arrayContaining(["--env", "HF_TOKEN", "--env", "IGNIS_RANK"]));
  });

  it("limits subprocesses with prlimit and gives them a clean environment", () => {
    expect(prlimitArgs({ openFiles: 64, fileBytes: 1024, memoryBytes: null, killGraceSeconds: 1 })).toEqual([
      "--nofile=64:64",
      "--core=0:0",
      "--fsize=1024:1024",
      "--",
    ]);
    const env = subprocessEnv(spec);
    expect(Object.keys(env).sort()).toEqual(["HF_TOKEN", "HOME", "IGNIS_RANK", "LANG", "PATH", "TMPDIR"]);
    expect(env.HOME).toBe(spec.scratchDir);
  });
});
