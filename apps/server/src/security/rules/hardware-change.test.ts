import { describe, expect, it } from "vitest";
import { assessHardwareChange } from "./hardware-change.js";

const a100 = {
  profile: "sim-a100",
  gpu: { vendor: "nvidia", model: "A100 80GB", count: 1, vramGb: 80, driver: "550.54" },
  ramGb: 256,
};

describe("hardware-change rule", () => {
  it("quarantines a device that now claims more GPUs than it was verified with", () => {
    const finding = assessHardwareChange("dev_x", a100, { ...a100, gpu: { ...a100.gpu, count: 8 } });
    expect(finding).toMatchObject({
      rule: "hardware_change",
      severity: "high",
      contain: true,
      subject: { key: "dev:dev_x", actorType: "device" },
      objectId: "dev_x",
      evidence: { changedFields: ["gpu.count"], before: { "gpu.count": 1 }, after: { "gpu.count": 8 } },
    });
  });

  it("flags a change of model or profile", () => {
    const finding = assessHardwareChange("dev_x", a100, {
      ...a100,
      profile: "sim-h100",
      gpu: { ...a100.gpu, model: "H100" },
    });
    expect(finding?.evidence.changedFields).toEqual(["profile", "gpu.model"]);
  });

  it("raises nothing for a driver upgrade or more RAM", () => {
    expect(
      assessHardwareChange("dev_x", a100, { ...a100, ramGb: 512, gpu: { ...a100.gpu, driver: "560.1" } }),
    ).toBeNull();
  });
});
