import { z } from "zod";

/**
 * The one table of hardware Ignis knows: what each model is expected to do on the proof-of-GPU workload,
 * what it costs by default and what it earns. docs/proof-of-gpu.md ("Calibration") says where each
 * throughput comes from; docs/performance.md holds the measurements.
 */

/** Hardware vendor families; each has its own prover backend. */
export type HardwareVendor = "nvidia" | "amd" | "apple" | "cpu";

/** The prover implementation a device of this profile runs. */
export type ProverBackend = "cuda" | "hip" | "metal" | "cpu";

/** One hardware model (or one simulated stand-in for tests and demos). */
export interface HardwareProfile {
  readonly id: string;
  readonly vendor: HardwareVendor;
  readonly model: string;
  /** Memory per device in GB, as claimed; the proof does not verify it (see docs/proof-of-gpu.md). */
  readonly vramGb: number;
  /** Devices per worker when the owner does not say otherwise. */
  readonly gpuCount: number;
  /**
   * Effective throughput per device on the proof workload, in tera-ops per second, counting 2·n²·inner
   * operations per matrix and including generation and hashing: what the reference prover achieves.
   */
  readonly effectiveTops: number;
  /** measured on the hardware, scaled from the vendor's datasheet peak, or a simulated figure. */
  readonly throughputSource: "measured" | "datasheet-scaled" | "estimate" | "simulated";
  /** Default rental price per device-hour in micro-units of the settlement currency. */
  readonly hourlyPriceMicros: number;
  /** Uptime reward weight per device; proportional to the compute the proof can verify (≈ TOPS / 10). */
  readonly rewardWeight: number;
  /** True for the tiny stand-ins that let a CPU play any device in tests and `ignis sim`. */
  readonly simulated: boolean;
  /** Challenge shape for this profile: A_m is n × inner, and the batch is sized to take targetMs. */
  readonly proof: {
    readonly n: number;
    readonly inner: number;
    readonly targetMs: number;
    readonly backend: ProverBackend;
  };
}

// H100 SXM measured end to end with apps/cli/native/cuda at the GPU shape below (docs/performance.md). Other
// NVIDIA parts are scaled from their dense int8 datasheet peaks with the same ratio until someone measures them.
const H100_MEASURED_TOPS = 1184;
const NVIDIA_EFFICIENCY = H100_MEASURED_TOPS / 1979;
const gpuShape = { n: 2048, inner: 32768, targetMs: 2000 } as const;

const nvidia = (
  id: string,
  model: string,
  vramGb: number,
  int8PeakTops: number,
  hourlyPriceMicros: number,
  measured?: number,
): HardwareProfile => {
  const effectiveTops = measured ?? Math.round(int8PeakTops * NVIDIA_EFFICIENCY);
  return {
    id,
    vendor: "nvidia",
    model,
    vramGb,
    gpuCount: 1,
    effectiveTops,
    throughputSource: measured === undefined ? "datasheet-scaled" : "measured",
    hourlyPriceMicros,
    rewardWeight: Math.max(1, Math.round(effectiveTops / 10)),
    simulated: false,
    proof: { ...gpuShape, backend: "cuda" },
  };
};

const simulated = (
  id: string,
  model: string,
  vendor: HardwareVendor,
  vramGb: number,
  megaOpsPerSecond: number,
  n: number,
  inner: number,
): HardwareProfile => ({
  id,
  vendor,
  model: `${model} (simulated)`,
  vramGb,
  gpuCount: 1,
  effectiveTops: megaOpsPerSecond / 1e6,
  throughputSource: "simulated",
  hourlyPriceMicros: 0,
  rewardWeight: 1,
  simulated: true,
  // Simulated devices are CPU provers paced to the simulated rate: a few tens of milliseconds each.
  proof: { n, inner, targetMs: 40, backend: "cpu" },
});

/** Every profile, real ones first. */
export const hardwareProfiles: readonly HardwareProfile[] = [
  nvidia("nvidia-h100-sxm", "NVIDIA H100 SXM 80GB", 80, 1979, 2_000_000, H100_MEASURED_TOPS),
  // Same tensor peak as the H100; only memory (not proven) differs.
  nvidia("nvidia-h200-sxm", "NVIDIA H200 SXM 141GB", 141, 1979, 2_500_000),
  nvidia("nvidia-a100-80gb", "NVIDIA A100 SXM 80GB", 80, 624, 1_200_000),
  nvidia("nvidia-l40s", "NVIDIA L40S 48GB", 48, 733, 800_000),
  nvidia("nvidia-rtx-4090", "NVIDIA GeForce RTX 4090", 24, 661, 350_000),
  nvidia("nvidia-rtx-3090", "NVIDIA GeForce RTX 3090", 24, 284, 200_000),
  nvidia("nvidia-rtx-3060", "NVIDIA GeForce RTX 3060 12GB", 12, 102, 80_000),
  {
    id: "amd-mi300x",
    vendor: "amd",
    model: "AMD Instinct MI300X",
    vramGb: 192,
    gpuCount: 1,
    // 2615 TOPS dense int8 peak; hipBLASLt int8 assumed at half of peak until the HIP prover is measured.
    effectiveTops: 1307,
    throughputSource: "estimate",
    hourlyPriceMicros: 2_000_000,
    rewardWeight: 131,
    simulated: false,
    proof: { ...gpuShape, backend: "hip" },
  },
  {
    id: "apple-m3-max",
    vendor: "apple",
    model: "Apple M3 Max (40-core GPU)",
    vramGb: 128,
    gpuCount: 1,
    // No int8 matrix units on the GPU: fp16 at ~14.3 TFLOPS peak (40 cores × 128 lanes × 2 × 1.4 GHz), 70%.
    effectiveTops: 10,
    throughputSource: "estimate",
    hourlyPriceMicros: 150_000,
    rewardWeight: 1,
    simulated: false,
    proof: { ...gpuShape, backend: "metal" },
  },
  {
    id: "apple-m2-ultra",
    vendor: "apple",
    model: "Apple M2 Ultra (76-core GPU)",
    vramGb: 192,
    gpuCount: 1,
    // fp16 at ~27.2 TFLOPS peak (76 × 128 × 2 × 1.4 GHz), 70%.
    effectiveTops: 19,
    throughputSource: "estimate",
    hourlyPriceMicros: 250_000,
    rewardWeight: 2,
    simulated: false,
    proof: { ...gpuShape, backend: "metal" },
  },
  {
    id: "cpu-generic",
    vendor: "cpu",
    model: "Generic CPU (TypeScript prover, one core)",
    vramGb: 0,
    gpuCount: 1,
    // The TypeScript prover reaches ~1 Gop/s on one core of the 2-core reference box; half that is the floor.
    effectiveTops: 0.0005,
    throughputSource: "measured",
    hourlyPriceMicros: 20_000,
    rewardWeight: 1,
    simulated: false,
    proof: { n: 128, inner: 512, targetMs: 2000, backend: "cpu" },
  },
  simulated("sim-h100", "NVIDIA H100", "nvidia", 80, 120, 64, 128),
  simulated("sim-a100", "NVIDIA A100", "nvidia", 80, 40, 64, 128),
  simulated("sim-rtx4090", "NVIDIA RTX 4090", "nvidia", 24, 42, 64, 128),
  simulated("sim-rtx3060", "NVIDIA RTX 3060", "nvidia", 12, 6, 32, 64),
  simulated("sim-m3max", "Apple M3 Max", "apple", 128, 2, 32, 64),
  simulated("sim-cpu", "CPU", "cpu", 0, 0.5, 16, 32),
];

/** Profile ids as a zod enum, for wire schemas that name a profile. */
export const hardwareProfileId = z.enum(hardwareProfiles.map((p) => p.id) as [string, ...string[]]);

/** The profile with this id, or undefined. */
export function findHardwareProfile(id: string): HardwareProfile | undefined {
  return hardwareProfiles.find((p) => p.id === id);
}

/** Operations per second of one device of this profile on the proof workload. */
export function profileOpsPerSecond(profile: HardwareProfile): number {
  return profile.effectiveTops * 1e12;
}
