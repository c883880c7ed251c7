import { describe, expect, it } from "vitest";
import { findHardwareProfile } from "../../../../packages/protocol/src/hardware-profiles.js";
import { createVirtualClock } from "./prover-clock.js";
import { selectProver } from "./select-prover.js";

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
});
