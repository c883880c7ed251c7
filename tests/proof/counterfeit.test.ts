import type { PublicDeviceDetail } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import {
  caught,
  type ProofWorld,
  type SimulatedDevice,
  slowerGpu,
  startProofWorld,
  verified,
} from "./proof-fixture.js";

/**
 * The definition of done: a simulated counterfeit enrolled next to honest simulated devices is
 * quarantined within its first challenge and the retry, the explorer shows it as failed, and the honest
 * devices as verified. Real server, real WebSockets, the real worker; only the counterfeit's prover differs.
 */
describeEachDialect("a counterfeit among honest devices", (database) => {
  let w: ProofWorld;
  let honest: SimulatedDevice[];
  let counterfeit: SimulatedDevice;

  beforeAll(async () => {
    w = await startProofWorld(database());
    honest = [];
    for (const profile of ["sim-h100", "sim-a100", "sim-rtx4090"]) honest.push(await w.device({ profile }));
    // An M3 Max's worth of compute (60× slower) passing itself off as an H100.
    counterfeit = await w.device({ profile: "sim-h100", prover: slowerGpu("sim-m3max") });
  });
  afterAll(() => w.stop());

  it("quarantines the counterfeit after its first challenge and the retry, and shows it failed", async () => {
    const view = await w.until(counterfeit.deviceId, caught);
    expect(view).toMatchObject({ verification: "failed", status: "quarantined", verifiedAt: null });
    expectPublishedLate(view);
    // A challenge that a stall of this loaded machine excused (host_stall) counts for nothing either way.
    const counted = (await w.challenges(counterfeit.deviceId)).filter((c) => c.reason !== "host_stall");
    expect(counted.map((c) => [c.trigger, c.outcome, c.reason])).toEqual([
      ["retry", "timeout", "commit_late"],
      ["connect", "timeout", "commit_late"],
    ]);
  });

  it("verifies every honest device and shows it verified", async () => {
    for (const device of honest) {
      const view = await w.until(device.deviceId, verified);
      expect(view).toMatchObject({ verification: "verified" });
      expect(view.status).not.toBe("quarantined");
      // Published to the hour, once the hour is over (explorer/published-time.ts): null until then.
      expectPublishedLate(view);
    }
  });

  it("keeps the counterfeit connected, so a later challenge could clear it, but earns it nothing", async () => {
    expect(w.t.server.ctx.gateway.isConnected(counterfeit.deviceId)).toBe(true);
    const row = await w.t.server.ctx.db
      .selectFrom("devices")
      .select(["verification", "status"])
      .where("id", "=", counterfeit.deviceId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ verification: "failed", status: "quarantined" });
  });

  /** Every public time of the device is a whole hour that has already ended. */
  function expectPublishedLate(view: PublicDeviceDetail) {
    const hourStart = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const times = [view.verifiedAt, ...view.verificationHistory.map((e) => e.at)].filter((x) => x !== null);
    for (const at of times) {
      expect(Date.parse(at) % 3_600_000).toBe(0);
      expect(Date.parse(at)).toBeLessThan(hourStart);
    }
  }

  it("shows the public only a verdict, its code and an hour per challenge, never seeds, timings or details", async () => {
    const view = await w.publicView(counterfeit.deviceId);
    for (const event of view.verificationHistory)
      expect(Object.keys(event).sort()).toEqual(["at", "code", "outcome", "result"]);
    const text = JSON.stringify(view);
    for (const secret of ["seed", "detail", "deadline", "challengeId"]) expect(text).not.toContain(secret);
  });
});
