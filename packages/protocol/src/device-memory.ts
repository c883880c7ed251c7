import { z } from "zod";
import { Timestamp } from "./common.js";

/**
 * Whether a device's claimed GPU memory is proven. Only a worker that announces `proof-vram` gets the memory phase
 * of proof of GPU (docs/proof-of-gpu.md, "Memory"); a device whose prover lacks it (the CUDA prover today) is
 * verified on speed alone, and its VRAM is a claim nobody checked. Public: it says nothing about the owner and holds no time.
 */
export const DeviceMemory = z.object({
  /** The memory the device claims, all GPUs together, in MiB (1 GB of the claim = 1024 MiB). */
  claimedMiB: z.int(),
  /**
   * True while the device is verified and its latest decided check (pass or fail) carried the memory phase and
   * passed; false otherwise, including for every device whose worker never answered a memory phase.
   */
  proven: z.boolean(),
});
/** Whether a device's claimed GPU memory is proven. */
export type DeviceMemory = z.infer<typeof DeviceMemory>;

/** The owner's view adds when memory was proven and whether the connected worker can be checked at all. */
export const OwnerDeviceMemory = DeviceMemory.extend({
  /**
   * When that memory check passed; null when memory is not proven. Owner only: exact check times of one owner's
   * devices would line them up in time (the explorer publishes proof times to the hour).
   */
  provenAt: Timestamp.nullable(),
  /**
   * Whether the worker's current session announced `proof-vram` (its prover answers the memory phase); null while
   * it is not connected.
   */
  workerProvesMemory: z.boolean().nullable(),
});
/** The owner's view of a device's memory proof. */
export type OwnerDeviceMemory = z.infer<typeof OwnerDeviceMemory>;

/** The claim in MiB: GB per GPU times GPUs times 1024. */
export function claimedMemoryMiB(vramGbPerGpu: number, gpuCount: number): number {
  return vramGbPerGpu * Math.max(1, gpuCount) * 1024;
}
