import type { DeviceView, PublicDeviceDetail } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { call, userWithKey } from "../../apps/server/src/testing/worker-fixture.js";
import {
  caught,
  type ProofWorld,
  type SimulatedDevice,
  slowerGpu,
  startProofWorld,
} from "./proof-fixture.js";

/**
 * Explained verdicts: the owner of a device that failed its checks reads, on the device's record, each check's
 * outcome with a stable code and plain words saying what was measured against what and what to do; another
 * supplier reads nothing, and the public explorer shows the outcome and the code only.
 */
describeEachDialect("explained verdicts", (database) => {
  let w: ProofWorld;
  let counterfeit: SimulatedDevice;

  beforeAll(async () => {
    w = await startProofWorld(database());
    // An M3 Max's worth of compute passing itself off as an H100: its answers come late.
    counterfeit = await w.device({ profile: "sim-h100", prover: slowerGpu("sim-m3max") });
    await w.until(counterfeit.deviceId, caught);
    await w.t.server.ctx.proof.settled();
  });
  afterAll(() => w.stop());

  const ownerRecord = async (key: string) =>
    call<DeviceView>(w.t, "GET", `/v1/devices/${counterfeit.deviceId}`, key);

  it("tells the owner which checks failed, with the code, the measured time against the deadline and what to do", async () => {
    const res = await ownerRecord(w.supplierKey);
    expect(res.status).toBe(200);
    const history = res.body.verificationHistory!;
    expect(history.map((e) => [e.outcome, e.reason?.code])).toEqual([
      ["timeout", "commit_late"],
      ["timeout", "commit_late"],
    ]);
    for (const event of history) {
      expect(event.reason!.detail).toMatch(/(answered after|no answer within) [\d,]+ ms/);
      expect(event.reason!.detail).toMatch(/the deadline was [\d,]+ ms/);
      expect(event.reason!.detail).toContain("H100");
      expect(event.reason!.detail).toMatch(/profile and GPU count match/);
    }
  });

  it("shows the history to no other supplier", async () => {
    const { key: other } = await userWithKey(w.t, ["supplier"]);
    const res = await ownerRecord(other);
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain("commit_late");
  });

  it("shows the public the outcome and the code of each check, never the detail", async () => {
    // The explorer publishes checks of completed hours only: move these into the past.
    const db = w.t.server.ctx.db;
    const rows = await db
      .selectFrom("proof_challenges")
      .select(["id", "decided_at"])
      .where("device_id", "=", counterfeit.deviceId)
      .execute();
    for (const row of rows) {
      await db
        .updateTable("proof_challenges")
        .set({ decided_at: new Date(new Date(row.decided_at!).getTime() - 2 * 3_600_000) })
        .where("id", "=", row.id)
        .execute();
    }
    const view: PublicDeviceDetail = await w.publicView(counterfeit.deviceId);
    expect(view.verificationHistory.map((e) => [e.result, e.outcome, e.code])).toEqual([
      ["fail", "timeout", "commit_late"],
      ["fail", "timeout", "commit_late"],
    ]);
    for (const event of view.verificationHistory)
      expect(Object.keys(event).sort()).toEqual(["at", "code", "outcome", "result"]);
    const text = JSON.stringify(view);
    for (const secret of ["detail", "deadline", " ms", "seed", "challengeId"])
      expect(text).not.toContain(secret);
  });
});
