import { describe, expect, it } from "vitest";
import { findHardwareProfile, hardwareProfileId, hardwareProfiles } from "./hardware-profiles.js";
import { MAX_PROOF_CELLS, MAX_PROOF_INNER, MAX_PROOF_N } from "./proof/freivalds.js";

describe("the hardware profile table", () => {
  it("has unique ids that the id schema accepts and the lookup finds", () => {
    const ids = hardwareProfiles.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(hardwareProfileId.parse(id)).toBe(id);
      expect(findHardwareProfile(id)?.id).toBe(id);
    }
    expect(findHardwareProfile("nvidia-h100-pcie-imaginary")).toBeUndefined();
  });

  it("covers the datasheet models and a simulated stand-in for each device class", () => {
    const ids = new Set(hardwareProfiles.map((p) => p.id));
    for (const id of [
      "nvidia-h100-sxm",
      "nvidia-h200-sxm",
      "nvidia-a100-80gb",
      "nvidia-l40s",
      "nvidia-rtx-4090",
    ]) {
      expect(ids.has(id)).toBe(true);
    }
    for (const id of [
      "nvidia-rtx-3090",
      "nvidia-rtx-3060",
      "amd-mi300x",
      "apple-m3-max",
      "apple-m2-ultra",
      "cpu-generic",
    ]) {
      expect(ids.has(id)).toBe(true);
    }
    for (const id of ["sim-h100", "sim-a100", "sim-rtx4090", "sim-m3max", "sim-cpu"]) {
      expect(findHardwareProfile(id)?.simulated).toBe(true);
    }
  });

  it("gives integer prices and weights and positive throughput to every profile", () => {
    for (const p of hardwareProfiles) {
      expect(Number.isSafeInteger(p.hourlyPriceMicros) && p.hourlyPriceMicros >= 0).toBe(true);
      expect(Number.isSafeInteger(p.rewardWeight) && p.rewardWeight >= 1).toBe(true);
      expect(p.effectiveTops).toBeGreaterThan(0);
      expect(p.gpuCount).toBeGreaterThanOrEqual(1);
    }
  });

  it("uses challenge shapes the protocol can carry and check exactly", () => {
    for (const { proof } of hardwareProfiles) {
      expect(proof.n % 16).toBe(0);
      expect(proof.inner % 16).toBe(0);
      expect(proof.n).toBeLessThanOrEqual(MAX_PROOF_N);
      expect(proof.inner).toBeLessThanOrEqual(MAX_PROOF_INNER);
      expect(proof.n * proof.inner).toBeLessThanOrEqual(MAX_PROOF_CELLS);
    }
  });

  it("ranks the flagship GPUs above the consumer ones and those above the CPU", () => {
    const tops = (id: string) => findHardwareProfile(id)!.effectiveTops;
    expect(tops("nvidia-h100-sxm")).toBeGreaterThan(tops("nvidia-a100-80gb"));
    expect(tops("nvidia-a100-80gb")).toBeGreaterThan(tops("nvidia-rtx-3090"));
    expect(tops("nvidia-rtx-3090")).toBeGreaterThan(tops("nvidia-rtx-3060"));
    expect(tops("nvidia-rtx-3060")).toBeGreaterThan(tops("apple-m3-max"));
    expect(tops("apple-m3-max")).toBeGreaterThan(tops("cpu-generic"));
    expect(tops("sim-h100")).toBeGreaterThan(tops("sim-a100"));
  });
});
