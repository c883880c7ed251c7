import {
  type HardwareProfile,
  type ProverBackend,
  profileOpsPerSecond,
} from "../../../../packages/protocol/src/hardware-profiles.js";
import { createCpuProver } from "./cpu-prover.js";
import { createCudaProver, cudaBinaryPresent, defaultCudaBinaryPath } from "./cuda-prover.js";
import { pacedProver } from "./paced-prover.js";
import type { Prover } from "./prover.js";
import { type ProverClock, systemClock } from "./prover-clock.js";
import { openWebGpuProduct, type WebGpuProduct } from "./webgpu-product.js";
import { createWebGpuProver } from "./webgpu-prover.js";

/** The chosen prover, which backend it is, and why when it is not the profile's own. */
export interface ProverSelection {
  readonly prover: Prover;
  readonly backend: ProverBackend | "simulated" | "webgpu";
  /**
   * Set when the profile's backend was unavailable and another prover stands in: WebGPU, or the CPU prover (which
   * will miss GPU deadlines).
   */
  readonly fallbackReason?: string;
}

/** What the worker knows when it picks a prover. */
export interface SelectProverOptions {
  readonly profile: HardwareProfile;
  /** Devices in this worker; simulated devices pace at profile rate × count. */
  readonly gpuCount?: number;
  /** Path of `pogpu`; defaults to apps/cli/native/cuda/build/pogpu. */
  readonly cudaBinaryPath?: string;
  readonly clock?: ProverClock;
  /** Opens the WebGPU device (default: the first hardware adapter; tests pass a software one). */
  readonly webgpu?: () => Promise<WebGpuProduct | string>;
}

/**
 * Picks the prover for a device: simulated profiles get the CPU prover paced to the simulated rate, CUDA
 * profiles the CUDA binary when it is built and starts, CPU profiles the CPU prover. Without its backend a
 * device falls back to the CPU prover and says why, so the worker can log it instead of failing silently.
 */
export async function selectProver(options: SelectProverOptions): Promise<ProverSelection> {
  const { profile } = options;
  const clock = options.clock ?? systemClock;
  if (profile.simulated) {
    const opsPerSecond = profileOpsPerSecond(profile) * (options.gpuCount ?? profile.gpuCount);
    const prover = pacedProver(
      createCpuProver({ clock }),
      { opsPerSecond, clock },
      `simulated ${profile.id}`,
    );
    return { prover, backend: "simulated" };
  }
  const backend = profile.proof.backend;
  if (backend === "cpu") return { prover: createCpuProver({ clock }), backend };
  if (backend === "cuda") {
    const path = options.cudaBinaryPath ?? defaultCudaBinaryPath();
    if (!cudaBinaryPresent(path)) {
      return webGpuOrCpu(options, `no CUDA prover at ${path} (build it with apps/cli/native/cuda/build.sh)`);
    }
    try {
      return { prover: await createCudaProver({ binaryPath: path, clock }), backend };
    } catch (err) {
      return webGpuOrCpu(options, `the CUDA prover did not start: ${(err as Error).message}`);
    }
  }
  return webGpuOrCpu(options, `no ${backend} prover is built yet (see docs/proof-of-gpu.md)`);
}

/**
 * Without the profile's native prover, the vendor-neutral WebGPU prover (AMD, Apple silicon, NVIDIA without the
 * CUDA build) when a hardware adapter is there; the CPU prover otherwise, saying why both are missing.
 */
async function webGpuOrCpu(options: SelectProverOptions, reason: string): Promise<ProverSelection> {
  const clock = options.clock ?? systemClock;
  const gpu = await (options.webgpu ?? (() => openWebGpuProduct()))().catch((e: Error) => e.message);
  if (typeof gpu !== "string") {
    return {
      prover: createWebGpuProver({ gpu, clock }),
      backend: "webgpu",
      fallbackReason: `${reason}; using WebGPU`,
    };
  }
  return cpuFallback(clock, `${reason}; ${gpu}`);
}

function cpuFallback(clock: ProverClock, fallbackReason: string): ProverSelection {
  return { prover: createCpuProver({ clock }), backend: "cpu", fallbackReason };
}
