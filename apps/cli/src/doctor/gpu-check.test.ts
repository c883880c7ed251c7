import type { HardwareClaim } from "@ignis/protocol";
import { describe, expect, it } from "vitest";
import { simulatedClaim } from "../hardware/detect.js";
import { gpuCheck } from "./gpu-check.js";

const real = (gpu: HardwareClaim["gpu"], profile: string): HardwareClaim => ({
  ...simulatedClaim("sim-a100"),
  profile,
  gpu,
});

describe("the gpu check", () => {
  it("passes a detected GPU of a known profile, naming model, VRAM and driver", () => {
    const c = gpuCheck(
      real(
        { vendor: "nvidia", model: "NVIDIA H100 80GB HBM3", count: 8, vramGb: 80, driver: "550.54" },
        "nvidia-h100-sxm",
      ),
    );
    expect(c).toEqual({
      id: "gpu",
      status: "pass",
      detail: "NVIDIA H100 80GB HBM3 x8, 80 GB VRAM each, driver 550.54 (profile nvidia-h100-sxm)",
    });
  });

  it("warns, with the driver fix, when no GPU is found", () => {
    const c = gpuCheck(
      real({ vendor: "cpu", model: "AMD EPYC", count: 1, vramGb: 0, driver: null }, "cpu-generic"),
    );
    expect(c).toMatchObject({ status: "warn", fix: expect.stringContaining("nvidia-smi") });
  });

  it("warns about a GPU that no profile names", () => {
    const c = gpuCheck(
      real({ vendor: "nvidia", model: "NVIDIA T400", count: 1, vramGb: 2, driver: "550" }, "cpu-generic"),
    );
    expect(c).toMatchObject({ status: "warn", detail: expect.stringContaining("not in the profile table") });
  });

  it("passes a simulated profile as what it is", () => {
    expect(gpuCheck(simulatedClaim("sim-cpu")).detail).toMatch(/^simulated profile sim-cpu/);
  });
});
