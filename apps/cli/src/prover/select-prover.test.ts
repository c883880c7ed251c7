import { describe, expect, it } from "vitest";
import { findHardwareProfile } from "../../../../packages/protocol/src/hardware-profiles.js";
import { createVirtualClock } from "./prover-clock.js";
import { selectProver } from "./select-prover.js";
import { openWebGpuProduct } from "./webgpu-product.js";

// Whether this machine has any WebGPU adapter (a software one will do to check the selection).
const webgpu = await openWebGpuProduct({ allowSoftware: true }).then((g) => {
  if (typeof g !== "string") g.close();
  return g;
});

const profile = (id: string) => findHardwareProfile(id)!;

describe("prover selection", () => {
  it("plays a simulated profile with the CPU prover paced to the simulated rate", async () => {
    const clock = createVirtualClock();
    const selection = await selectProver({ profile: profile("sim-h100"), clock });
    expect(selection.backend).toBe("simulated");
    expect(selection.prover.name).toBe("simulated sim-h100");
    expect(selection.fallbackReason).toBeUndefined();
  });

  it("runs the CPU prover for the CPU profile", async () => {
    const selection = await selectProver({ profile: profile("cpu-generic") });
    expect(selection).toMatchObject({ backend: "cpu" });
    expect(selection.fallbackReason).toBeUndefined();
  });

  it("falls back to the CPU prover, saying why, when the CUDA binary is missing", async () => {
    const selection = await selectProver({
      profile: profile("nvidia-h100-sxm"),
      cudaBinaryPath: "/nonexistent/pogpu",
    });
    expect(selection.backend).toBe("cpu");
    expect(selection.fallbackReason).toContain("no CUDA prover at /nonexistent/pogpu");
  });

  it("says that Metal and HIP provers are not built yet", async () => {
    expect((await selectProver({ profile: profile("apple-m3-max") })).fallbackReason).toContain(
      "no metal prover",
    );
    expect((await selectProver({ profile: profile("amd-mi300x") })).fallbackReason).toContain(
      "no hip prover",
    );
  });

  it("names both missing provers when neither the native one nor a WebGPU adapter is there", async () => {
    const selection = await selectProver({
      profile: profile("amd-mi300x"),
      webgpu: async () => "WebGPU found no adapter",
    });
    expect(selection.backend).toBe("cpu");
    expect(selection.fallbackReason).toBe(
      "no hip prover is built yet (see docs/proof-of-gpu.md); WebGPU found no adapter",
    );
  });

  it.skipIf(typeof webgpu === "string")(
    "proves with WebGPU on AMD and Apple silicon when an adapter is there",
    async () => {
      for (const id of ["amd-mi300x", "apple-m3-max"]) {
        const selection = await selectProver({
          profile: profile(id),
          webgpu: () => openWebGpuProduct({ allowSoftware: true }),
        });
        expect(selection.backend).toBe("webgpu");
        expect(selection.prover.name).toMatch(/^webgpu \(/);
        expect(selection.fallbackReason).toMatch(/using WebGPU$/);
        await selection.prover.close();
      }
    },
  );
});
