import type { HardwareClaim } from "@ignis/protocol";
import { type DoctorCheck, pass, warn } from "./doctor-check.js";

/**
 * The `gpu` check from a hardware claim (detected, or a simulated profile's): the model, VRAM and driver found.
 * Never a failure: a CPU-only machine may join, it just earns as one.
 */
export function gpuCheck(claim: HardwareClaim): DoctorCheck {
  const { gpu } = claim;
  if (gpu.driver === "simulated") {
    return pass(
      "gpu",
      `simulated profile ${claim.profile}: ${gpu.model} x${gpu.count}, ${gpu.vramGb} GB VRAM`,
    );
  }
  if (gpu.vendor === "cpu") {
    return warn(
      "gpu",
      `no GPU found (nvidia-smi, rocm-smi and system_profiler found none); this device joins as CPU-only (${claim.profile})`,
      "install the GPU's driver so that nvidia-smi (NVIDIA) or rocm-smi (AMD) lists it, then run ignis doctor again",
    );
  }
  const detail =
    `${gpu.model} x${gpu.count}, ${gpu.vramGb} GB VRAM${gpu.count > 1 ? " each" : ""}, ` +
    `driver ${gpu.driver ?? "built in"} (profile ${claim.profile})`;
  if (claim.profile === "cpu-generic") {
    return warn(
      "gpu",
      `${detail}: this model is not in the profile table, so it cannot be verified or hired as a GPU`,
      "ask the network's operators to add this model; meanwhile the device joins as CPU-only",
    );
  }
  return pass("gpu", detail);
}
