import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import {
  caught,
  honestProver,
  inRound,
  type ProofWorld,
  type SimulatedDevice,
  stallingDevice,
  startProofWorld,
  verified,
} from "./proof-fixture.js";

/**
 * Group rounds against one GPU posing as two devices. The cheater answers its favourite device (A) in time and, in
 * every round, makes its other device (B) late while holding B's pongs, so the server sees a stalled host and
 * excuses B (`host_stall`). Outside a round B answers in time, as one GPU serving one challenge does. B knows a
 * challenge is part of a round here from the server's record; on a real GPU it knows because the GPU is busy
 * with A's challenge of the same round. An honest device on the same owner and address, whose host stalls once in
 * a round, is verified again by its retry.
 */
describeEachDialect("group rounds against faked stalls", (database) => {
  let w: ProofWorld;
  let a: SimulatedDevice;
  let b: SimulatedDevice;
  let honest: SimulatedDevice;
  let honestStalled = false;

  const grouped = (challengeId: string) => inRound(w, challengeId);
  const challengesOf = (deviceId: string) =>
    w.t.server.ctx.db
      .selectFrom("proof_challenges")
      .select(["trigger", "outcome", "reason", "group_round"])
      .where("device_id", "=", deviceId)
      .where("outcome", "in", ["pass", "fail", "timeout"])
      .orderBy("decided_at")
      .execute();

  beforeAll(async () => {
    // Re-checks about every second, so rounds come often; retries 0.3 s after a miss.
    w = await startProofWorld(database(), { IGNIS_CHALLENGE_MEAN_SECONDS: "1" });
    a = await w.device({ profile: "sim-a100", prover: honestProver("sim-a100") });
    b = await w.device({ profile: "sim-a100", ...stallingDevice(grouped) });
    // The honest host stalls once, in the first round it is part of.
    honest = await w.device({
      profile: "sim-a100",
      ...stallingDevice(async (id) => {
        if (honestStalled || !(await grouped(id))) return false;
        honestStalled = true;
        return true;
      }),
    });
  }, 60_000);
  afterAll(() => w.stop());

  it("quarantines the device a shared GPU fakes stalls for, and never verifies it after its first missed round", async () => {
    await w.until(b.deviceId, caught, 60_000);
    const history = await challengesOf(b.deviceId);
    const firstMiss = history.findIndex((c) => c.group_round !== null && c.outcome !== "pass");
    expect(firstMiss).toBeGreaterThanOrEqual(0);
    const after = history.slice(firstMiss);
    // Every challenge from the first missed round on was a round (its retries too), and none passed.
    expect(after.every((c) => c.group_round !== null && c.outcome === "timeout")).toBe(true);
    expect(after.filter((c) => c.reason === "host_stall").length).toBeGreaterThanOrEqual(5);
    // The GPU's favourite device stays verified: one GPU, one verified device.
    expect((await w.publicView(a.deviceId)).verification).toBe("verified");
  }, 90_000);

  it("verifies an honest device again after one genuine stall in a round, by its retry round", async () => {
    const history = await waitFor(
      "the honest device's stall and the round that cleared it",
      async () => {
        const h = await challengesOf(honest.deviceId);
        const stall = h.findIndex((c) => c.group_round !== null && c.reason === "host_stall");
        return stall >= 0 && h.slice(stall + 1).some((c) => c.outcome === "pass") ? h : undefined;
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );
    const stall = history.findIndex((c) => c.group_round !== null && c.reason === "host_stall");
    const clearing = history.slice(stall + 1).find((c) => c.outcome === "pass")!;
    expect(clearing.group_round).not.toBeNull();
    // Only the one stall: no counted failure, never quarantined.
    expect(history.filter((c) => c.outcome !== "pass" && c.reason !== "host_stall")).toEqual([]);
    expect(await w.until(honest.deviceId, verified, 30_000)).toMatchObject({ verification: "verified" });
  }, 90_000);
});
