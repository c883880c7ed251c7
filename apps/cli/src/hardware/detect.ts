import { statfs } from "node:fs/promises";
import { arch, cpus, platform, release, totalmem } from "node:os";
import {
  findHardwareProfile,
  type HardwareClaim,
  HardwareClaim as HardwareClaimSchema,
} from "@ignis/protocol";
import si from "systeminformation";
import { probeGpus } from "./gpu-tools.js";
import { profileForGpu } from "./profile-match.js";
import { detectRegion } from "./region.js";
import { runTool, type ToolRunner } from "./tool-runner.js";

const GB = 1024 ** 3;

/** The claim of a simulated profile (`sim-a100` ...) from the one profile table; throws for unknown names. */
export function simulatedClaim(profileId: string, region = detectRegion()): HardwareClaim {
  const profile = findHardwareProfile(profileId);
  if (!profile) throw new Error(`unknown hardware profile '${profileId}'`);
  if (!profile.simulated) {
    throw new Error(
      `'${profileId}' is real hardware: it is detected, not chosen (simulated profiles start with sim-)`,
    );
  }
  return HardwareClaimSchema.parse({
    profile: profile.id,
    gpu: {
      vendor: profile.vendor,
      model: profile.model,
      count: profile.gpuCount,
      vramGb: profile.vramGb,
      driver: "simulated",
    },
    cpu: { model: "Simulated CPU", cores: 8 },
    ramGb: profile.vendor === "apple" ? profile.vramGb : 64,
    diskGb: 512,
    os: {
      platform: profile.vendor === "apple" ? "darwin" : "linux",
      release: "simulated",
      arch: profile.vendor === "apple" ? "arm64" : "x64",
      appleSilicon: profile.vendor === "apple",
    },
    region,
  });
}

/**
 * Detects this machine: GPUs from the vendor tools (nvidia-smi, rocm-smi, system_profiler), CPU from
 * systeminformation, RAM, the disk holding `stateDir`, OS and architecture (Apple silicon included) and a coarse
 * region. The profile is the matching entry of the profile table, `cpu-generic` for a machine without a known GPU.
 */
export async function detectHardware(options: {
  stateDir: string;
  run?: ToolRunner;
}): Promise<HardwareClaim> {
  const run = options.run ?? runTool;
  const os = platform();
  const ramGb = Math.round(totalmem() / GB);
  const [gpus, cpu, disk] = await Promise.all([
    probeGpus(run, os, ramGb),
    si.cpu().catch(() => undefined),
    statfs(options.stateDir).catch(() => undefined),
  ]);
  const cpuModel = cpu ? `${cpu.manufacturer} ${cpu.brand}`.trim() : (cpus()[0]?.model ?? "unknown CPU");
  const cores = cpu?.cores || cpus().length || 1;
  const matched = gpus ? profileForGpu(gpus.vendor, gpus.model) : undefined;
  const claim = {
    profile: matched?.id ?? "cpu-generic",
    gpu: gpus
      ? {
          vendor: gpus.vendor,
          model: gpus.model.slice(0, 80),
          count: gpus.count,
          vramGb: gpus.vramGb,
          driver: gpus.driver,
        }
      : { vendor: "cpu" as const, model: cpuModel.slice(0, 80) || "CPU", count: 1, vramGb: 0, driver: null },
    cpu: { model: cpuModel.slice(0, 120) || "CPU", cores: Math.min(4096, cores) },
    ramGb,
    diskGb: disk ? Math.round((disk.blocks * disk.bsize) / GB) : 0,
    os: {
      platform: os,
      release: release().slice(0, 80),
      arch: arch(),
      appleSilicon: os === "darwin" && arch() === "arm64",
    },
    region: detectRegion(),
  };
  return HardwareClaimSchema.parse(claim);
}

/** The claim for `--profile NAME` (simulated) or, without one, this machine's detected hardware. */
export async function hardwareClaim(options: {
  profile?: string | undefined;
  stateDir: string;
}): Promise<HardwareClaim> {
  return options.profile ? simulatedClaim(options.profile) : detectHardware({ stateDir: options.stateDir });
}
