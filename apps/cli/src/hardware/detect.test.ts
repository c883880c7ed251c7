import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HardwareClaim, hardwareProfiles } from "@ignis/protocol";
import { describe, expect, it } from "vitest";
import { detectHardware, simulatedClaim } from "./detect.js";

describe("hardware claims", () => {
  it("makes a valid claim for every simulated profile of the profile table", () => {
    const simulated = hardwareProfiles.filter((p) => p.simulated);
    expect(simulated.map((p) => p.id)).toEqual(
      expect.arrayContaining(["sim-a100", "sim-h100", "sim-rtx4090", "sim-m3max", "sim-cpu"]),
    );
    for (const profile of simulated) {
      const claim = simulatedClaim(profile.id);
      expect(HardwareClaim.safeParse(claim).success).toBe(true);
      expect(claim).toMatchObject({
        profile: profile.id,
        gpu: { model: profile.model, vramGb: profile.vramGb },
      });
    }
    expect(simulatedClaim("sim-m3max").os).toMatchObject({ arch: "arm64", appleSilicon: true });
  });

  it("refuses unknown profiles and real ones, which are detected rather than chosen", () => {
    expect(() => simulatedClaim("sim-nope")).toThrow(/unknown hardware profile/);
    expect(() => simulatedClaim("nvidia-h100-sxm")).toThrow(/detected, not chosen/);
  });

  it("detects this machine through the vendor tools and the OS", async () => {
    const nvidia = "NVIDIA A100-SXM4-80GB, 81920, 535.104.05\n";
    const claim = await detectHardware({
      stateDir: mkdtempSync(join(tmpdir(), "ignis-detect-")),
      run: async (command) => (command === "nvidia-smi" ? nvidia : undefined),
    });
    expect(claim).toMatchObject({
      profile: "nvidia-a100-80gb",
      gpu: { vendor: "nvidia", model: "NVIDIA A100-SXM4-80GB", count: 1, vramGb: 80, driver: "535.104.05" },
    });
    expect(claim.ramGb).toBeGreaterThan(0);
    expect(claim.diskGb).toBeGreaterThan(0);
    expect(claim.cpu.cores).toBeGreaterThan(0);
    const cpuOnly = await detectHardware({ stateDir: tmpdir(), run: async () => undefined });
    expect(cpuOnly).toMatchObject({ profile: "cpu-generic", gpu: { vendor: "cpu" } });
  });
});
