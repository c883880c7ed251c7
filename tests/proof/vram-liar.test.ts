import type { DeviceView } from "@ignis/protocol";
import { findHardwareProfile, profileOpsPerSecond } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { vramShortProver } from "../../apps/cli/src/prover/adversary-provers.js";
import { pacedProver } from "../../apps/cli/src/prover/paced-prover.js";
import { systemClock } from "../../apps/cli/src/prover/prover-clock.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { call } from "../../apps/server/src/testing/worker-fixture.js";
import { caught, type ProofWorld, type SimulatedDevice, startProofWorld, verified } from "./proof-fixture.js";

/**
 * The VRAM proof's definition of done: a device that claims a simulated H100's memory but holds a tenth of it
 * (at the H100's full speed, so timing alone would not catch it) fails with `vram_short` and is quarantined,
 * while honest devices, which announce `proof-vram` and so get the memory phase too, are verified.
 */
describeEachDialect("a device that lies about its memory", (database) => {
  let w: ProofWorld;
  let honest: SimulatedDevice[];
  let liar: SimulatedDevice;

  beforeAll(async () => {
    w = await startProofWorld(database());
    honest = [];
    for (const profile of ["sim-h100", "sim-rtx4090"]) honest.push(await w.device({ profile }));
    const opsPerSecond = profileOpsPerSecond(findHardwareProfile("sim-h100")!);
    liar = await w.device({
      profile: "sim-h100",
      prover: pacedProver(vramShortProver({ fraction: 0.1 }), { opsPerSecond, clock: systemClock }),
    });
  });
  afterAll(() => w.stop());

  it("fails the liar with vram_short and quarantines it; it never passes", async () => {
    const view = await w.until(liar.deviceId, caught);
    expect(view).toMatchObject({ verification: "failed", status: "quarantined" });
    await w.t.server.ctx.proof.settled();
    const challenges = (await w.challenges(liar.deviceId)).filter((c) => c.outcome !== "pending");
    // Its answers come at the honest speed; a first challenge on a loaded embedded database may still time out.
    expect(challenges[0]).toMatchObject({ outcome: "fail", reason: "vram_short" });
    expect(challenges.every((c) => c.outcome !== "pass")).toBe(true);
  });

  it("verifies the honest devices, which passed the memory phase as well", async () => {
    for (const device of honest) {
      expect(await w.until(device.deviceId, verified)).toMatchObject({ verification: "verified" });
      const passed = (await w.challenges(device.deviceId)).filter((c) => c.outcome === "pass");
      expect(passed.length).toBeGreaterThan(0);
      expect(w.t.server.ctx.gateway.session(device.deviceId)?.supports("proof-vram")).toBe(true);
    }
  });

  it("tells the liar's owner the buffer its claimed memory asked for, and what to do", async () => {
    await w.t.server.ctx.proof.settled();
    const res = await call<DeviceView>(w.t, "GET", `/v1/devices/${liar.deviceId}`, w.supplierKey);
    const [latest] = res.body.verificationHistory!;
    expect(latest).toMatchObject({ outcome: "fail", reason: { code: "vram_short" } });
    // 80 GB claimed by a simulated H100: 80 · 4 KiB.
    expect(latest!.reason!.detail).toContain(
      "a 0.3 MiB buffer, the memory it claims (scaled down for a simulated profile)",
    );
    expect(latest!.reason!.detail).toContain("profile that matches its memory");
  });
});
