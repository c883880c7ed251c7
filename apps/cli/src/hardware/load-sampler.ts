import { cpus, freemem, loadavg, totalmem } from "node:os";
import type { HardwareClaim, HeartbeatLoad } from "@ignis/protocol";
import { runTool, type ToolRunner } from "./tool-runner.js";

const GB = 1024 ** 3;
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Samples the load a heartbeat carries; cheap enough to call every heartbeat. */
export interface LoadSampler {
  sample(busy: boolean): HeartbeatLoad;
}

/** Parses `nvidia-smi --query-gpu=utilization.gpu,memory.used,temperature.gpu --format=csv,noheader,nounits`. */
export function parseNvidiaLoad(csv: string): HeartbeatLoad["gpus"] {
  return csv
    .split("\n")
    .map((l) => l.split(",").map((c) => Number(c.trim())))
    .filter((r) => r.length >= 3 && r.every(Number.isFinite))
    .slice(0, 64)
    .map(([util, memMiB, temp]) => ({
      utilPercent: Math.min(100, Math.max(0, util!)),
      memUsedGb: round1(memMiB! / 1024),
      temperatureC: temp!,
    }));
}

/**
 * A sampler for the machine: CPU from the load average, memory from the OS, NVIDIA GPU state from nvidia-smi
 * refreshed in the background (a heartbeat never waits for a tool). Simulated devices report an idle machine
 * whose GPUs are busy while a job runs.
 */
export function createLoadSampler(claim: HardwareClaim, run: ToolRunner = runTool): LoadSampler {
  const simulated = claim.gpu.driver === "simulated";
  const idleGpus = () =>
    Array.from({ length: Math.min(64, claim.gpu.count) }, () => ({
      utilPercent: 0,
      memUsedGb: 0,
      temperatureC: null as number | null,
    }));
  let gpus: HeartbeatLoad["gpus"] = idleGpus();
  let refreshing = false;
  const refresh = () => {
    if (simulated || claim.gpu.vendor !== "nvidia" || refreshing) return;
    refreshing = true;
    void run("nvidia-smi", [
      "--query-gpu=utilization.gpu,memory.used,temperature.gpu",
      "--format=csv,noheader,nounits",
    ])
      .then((out) => {
        if (out) gpus = parseNvidiaLoad(out);
      })
      .finally(() => {
        refreshing = false;
      });
  };
  return {
    sample(busy) {
      refresh();
      if (simulated) {
        return {
          cpuPercent: busy ? 35 : 3,
          memUsedGb: busy ? 12 : 2,
          gpus: gpus.map((g) => ({
            ...g,
            utilPercent: busy ? 97 : 0,
            memUsedGb: busy ? round1(claim.gpu.vramGb * 0.8) : 0,
          })),
          busy,
        };
      }
      return {
        cpuPercent: Math.min(100, round1((loadavg()[0]! / Math.max(1, cpus().length)) * 100)),
        memUsedGb: round1((totalmem() - freemem()) / GB),
        gpus,
        busy,
      };
    },
  };
}
