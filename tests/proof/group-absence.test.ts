import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { call } from "../../apps/server/src/testing/worker-fixture.js";
import {
  honestProver,
  inRound,
  type ProofWorld,
  type SimulatedDevice,
  stallingDevice,
  startProofWorld,
  verified,
} from "./proof-fixture.js";

/**
 * The offline dodge against group rounds. One GPU poses as A and B. In a round it answers A and lets B miss (a
 * faked stall); B is then cleared only by passing a round. The cheater takes A offline as B misses, so that B's
 * retry round holds B alone, which the GPU passes: both would look verified while one GPU serves them. A round
 * clears a miss only when it also challenged every device of the missed round that still counts
 * (round-coverage.ts): B waits while A is away, and is cleared once A no longer counts (revoked here).
 */
describeEachDialect("group rounds against a sibling taken offline", (database) => {
  let w: ProofWorld;
  let a: SimulatedDevice;
  let b: SimulatedDevice;
  let aOnline = true;
  let aStopped: Promise<void> | undefined;

  const challengesOf = (deviceId: string) =>
    w.t.server.ctx.db
      .selectFrom("proof_challenges")
      .select(["outcome", "reason", "group_round", "round_incomplete", "decided_at"])
      .where("device_id", "=", deviceId)
      .where("outcome", "in", ["pass", "fail", "timeout"])
      .orderBy("decided_at")
      .execute();

  beforeAll(async () => {
    // Rounds about every second, retries 0.3 s after a miss; a device away counts for ten minutes.
    w = await startProofWorld(database(), {
      IGNIS_CHALLENGE_MEAN_SECONDS: "1",
      IGNIS_CHALLENGE_ABSENCE_SECONDS: "600",
    });
    a = await w.device({ profile: "sim-a100", prover: honestProver("sim-a100") });
    // B stalls in a round while A is there (the GPU is busy with A's challenge); when the stall starts, the
    // cheater takes A offline, so that B's retry round finds the GPU free and A away.
    b = await w.device({
      profile: "sim-a100",
      ...stallingDevice(async (id) => {
        if (!aOnline || !(await inRound(w, id))) return false;
        aOnline = false;
        aStopped = a.worker.stop();
        return true;
      }),
    });
  }, 60_000);
  afterAll(() => w.stop());

  it("does not clear the device while its sibling of the missed round is away, whatever rounds it passes", async () => {
    await waitFor("B's stall and A's exit", () => aStopped !== undefined, { timeoutMs: 60_000, everyMs: 50 });
    await aStopped;
    const missed = await waitFor(
      "B's missed round on record",
      async () =>
        (await challengesOf(b.deviceId)).find((c) => c.group_round !== null && c.outcome !== "pass"),
      { timeoutMs: 30_000, everyMs: 50 },
    );
    await w.until(b.deviceId, (d) => d.verification !== "verified");
    // A was online when the round was called and left before its own challenge went out: it missed the round,
    // as a device whose session closes during its challenge does, and is no longer verified.
    const aMissed = await waitFor(
      "A's miss of the same round on record",
      async () => (await challengesOf(a.deviceId)).find((c) => c.group_round === missed.group_round),
      { timeoutMs: 30_000, everyMs: 50 },
    );
    // Either A answered its challenge before it left (one GPU, one device verified), or it missed the round.
    if (aMissed.outcome !== "pass") {
      expect(aMissed).toMatchObject({
        outcome: "timeout",
        reason: expect.stringMatching(/^(session_closed|round_absent)$/),
      });
      await w.until(a.deviceId, (d) => d.verification !== "verified");
    }
    // Long enough for several of B's retries (0.3 s each) and the coverage check of a pass (~5 s). B may be
    // verified again only once A no longer counts: quarantined (a second failure, as when A also walked away from
    // a challenge of its own). One GPU, never two devices verified.
    const watchUntil = Date.now() + 12_000;
    while (Date.now() < watchUntil) {
      const [viewA, viewB] = await Promise.all([w.publicView(a.deviceId), w.publicView(b.deviceId)]);
      expect(viewA.verification === "verified" && viewB.verification === "verified").toBe(false);
      if (viewB.verification === "verified") expect(viewA.verification).toBe("failed");
      await new Promise((r) => setTimeout(r, 100));
    }
    const aCounts = (await w.publicView(a.deviceId)).verification !== "failed";
    const history = await challengesOf(b.deviceId);
    const firstMiss = history.findIndex((c) => c.group_round !== null && c.outcome !== "pass");
    // While A counts, any round B passed since left A out, and is marked so: it cleared nothing.
    if (aCounts)
      for (const c of history.slice(firstMiss).filter((c) => c.outcome === "pass"))
        expect(c).toMatchObject({ round_incomplete: true });
  }, 90_000);

  it("clears the device by its next round once the sibling no longer counts (its owner revoked it)", async () => {
    const revoked = await call(w.t, "POST", `/v1/devices/${a.deviceId}/revoke`, w.supplierKey);
    expect(revoked.status).toBe(200);
    await w.until(b.deviceId, verified, 30_000);
    const history = await challengesOf(b.deviceId);
    const lastMiss = history.findLastIndex((c) => c.outcome !== "pass");
    // Passes in rounds that left A out before its revocation cleared nothing; the first one since does.
    const clearing = history.slice(lastMiss + 1).find((c) => !c.round_incomplete)!;
    expect(clearing).toMatchObject({ outcome: "pass", round_incomplete: false });
    expect(clearing.group_round).not.toBeNull();
  }, 60_000);
});
