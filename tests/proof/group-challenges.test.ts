import { afterAll, beforeAll, expect, it } from "vitest";
import { createUserWithKey } from "../../apps/server/src/security/security-fixtures.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { type ProofWorld, type SimulatedDevice, startProofWorld, verified } from "./proof-fixture.js";

/**
 * Group challenges in a running server: with re-checks every second or so, a scheduled re-check of one of an
 * owner's devices brings challenges for its online siblings at the same moment, and never for a device of
 * another owner behind another address. Honest devices pass them. (Simulated deadlines are wide enough for a
 * loaded CI machine, so a shared simulated prover is not caught here; the timing argument is in
 * docs/proof-of-gpu.md.)
 */
describeEachDialect("group challenges", (database) => {
  let w: ProofWorld;
  let siblings: SimulatedDevice[];
  let stranger: SimulatedDevice;

  beforeAll(async () => {
    w = await startProofWorld(database(), { IGNIS_CHALLENGE_MEAN_SECONDS: "1" });
    // First, another owner's device seen from another address (moved there before any sibling exists, so no
    // group can have reached it as the supplier's).
    stranger = await w.device({ profile: "sim-a100" });
    const db = w.t.server.ctx.db;
    const other = await createUserWithKey(db, ["supplier"]);
    await db
      .updateTable("devices")
      .set({ owner_id: other.userId, session_address: "198.51.100.7" })
      .where("id", "=", stranger.deviceId)
      .execute();
    siblings = [];
    for (const profile of ["sim-h100", "sim-a100", "sim-rtx4090"]) siblings.push(await w.device({ profile }));
  }, 60_000);
  afterAll(() => w.stop());

  const challengesOf = (deviceId: string) =>
    w.t.server.ctx.db
      .selectFrom("proof_challenges")
      .select(["trigger", "issued_at", "outcome"])
      .where("device_id", "=", deviceId)
      .orderBy("issued_at")
      .execute();

  it("challenges an owner's online devices together when one of them is re-checked", async () => {
    await w.until(siblings[0]!.deviceId, verified);
    const grouped = await waitFor(
      "a group challenge among the siblings",
      async () => {
        const all = (await Promise.all(siblings.map((d) => challengesOf(d.deviceId)))).flat();
        return all.some((c) => c.trigger === "group") ? all : undefined;
      },
      { timeoutMs: 30_000, everyMs: 200 },
    );
    // Each group challenge answers a sibling's scheduled re-check, which was issued before it.
    const scheduled = grouped.filter((c) => c.trigger === "schedule");
    expect(scheduled.length).toBeGreaterThan(0);
    for (const g of grouped.filter((c) => c.trigger === "group")) {
      expect(scheduled.some((s) => s.issued_at.getTime() <= g.issued_at.getTime())).toBe(true);
    }
  });

  it("leaves a device of another owner behind another address out, and the honest ones verified", async () => {
    const strangers = await challengesOf(stranger.deviceId);
    expect(strangers.some((c) => c.trigger === "group")).toBe(false);
    for (const device of siblings) {
      // An honest device never answers wrongly. On a machine loaded to its limit it may miss a deadline (a
      // timeout, which its retry makes good), so what the test holds it to is no wrong answer and verified.
      const decided = (await challengesOf(device.deviceId)).filter((c) => c.outcome !== "pending");
      expect(decided.filter((c) => c.outcome === "fail")).toEqual([]);
      expect(await w.until(device.deviceId, verified, 60_000)).toMatchObject({ verification: "verified" });
    }
    // Operators see the verdicts by trigger in /metrics. A group challenge found above may still be pending (its
    // members are challenged at random moments), so this waits for the first group verdict to be counted.
    const verdicts = (trigger: string) =>
      new RegExp(
        `ignis_proof_verdicts_total\\{[^}]*trigger="${trigger}",outcome="(pass|timeout)"[^}]*\\} [1-9]`,
      );
    const text = await waitFor(
      "a group verdict in /metrics",
      async () => {
        const res = await fetch(`${w.t.url}/metrics`, {
          headers: { authorization: `Bearer ${w.t.adminKey}` },
        });
        const body = await res.text();
        return verdicts("group").test(body) ? body : undefined;
      },
      { timeoutMs: 60_000, everyMs: 250 },
    );
    expect(text).toMatch(verdicts("connect"));
  }, 120_000);
});
