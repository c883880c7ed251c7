import { createHash } from "node:crypto";
import { type SlashView, slashTranscriptText } from "@ignis/protocol";
import { afterAll, beforeAll, expect, it } from "vitest";
import { halfRowsProver } from "../../apps/cli/src/prover/adversary-provers.js";
import { ledgerImbalance } from "../../apps/server/src/ledger/balances.js";
import { describeEachDialect } from "../../apps/server/src/testing/dialects.js";
import { waitFor } from "../../apps/server/src/testing/wait-for.js";
import { call } from "../../apps/server/src/testing/worker-fixture.js";
import {
  honestProver,
  type ProofWorld,
  type SimulatedDevice,
  startProofWorld,
  switchableProver,
  verified,
} from "./proof-fixture.js";

const PER_GPU = 1_000_000;

/**
 * Staking end to end: a real server and the real worker over a real WebSocket. A staked device whose prover turns
 * to lying is slashed by the proof service's own verdict, the published evidence rechecks, and the owner's appeal
 * brings a re-proof that, passing, refunds the slash exactly.
 */
describeEachDialect("a staked device that lies, is slashed, mends and appeals", (database) => {
  let w: ProofWorld;
  let device: SimulatedDevice;
  const prover = switchableProver(honestProver("sim-a100"));
  const slashesOf = async (deviceId: string) =>
    (await call<{ items: SlashView[] }>(w.t, "GET", `/v1/slashes?deviceId=${deviceId}`)).body.items;

  beforeAll(async () => {
    // A long retry delay: the lie is caught once, and the appeal's re-proof comes before any retry would.
    w = await startProofWorld(database(), {
      IGNIS_STAKE_PER_GPU: String(PER_GPU),
      IGNIS_CHALLENGE_RETRY_SECONDS: "600",
    });
    device = await w.device({ profile: "sim-a100", prover });
    await w.until(device.deviceId, verified);
    const { owner_id } = await w.t.server.ctx.db
      .selectFrom("devices")
      .select("owner_id")
      .where("id", "=", device.deviceId)
      .executeTakeFirstOrThrow();
    const credit = await call(w.t, "POST", "/v1/admin/credits", w.t.adminKey, {
      userId: owner_id,
      amount: String(PER_GPU),
      account: "supplier_earnings",
    });
    expect(credit.status).toBe(201);
    const stake = await call(w.t, "POST", "/v1/stakes", w.supplierKey, {
      deviceId: device.deviceId,
      amount: String(PER_GPU),
    });
    expect(stake.status).toBe(201);
  });
  afterAll(() => w.stop());

  it("slashes the stake by IGNIS_SLASH_BPS when a challenge catches a wrong row, with evidence anyone rechecks", async () => {
    prover.use(halfRowsProver());
    const trigger = await call(w.t, "POST", `/v1/admin/devices/${device.deviceId}/challenges`, w.t.adminKey);
    expect(trigger.status).toBe(202);
    const [slash] = await waitFor("the slash", async () => {
      const items = await slashesOf(device.deviceId);
      return items.length > 0 ? items : undefined;
    });
    prover.use(honestProver("sim-a100"));
    expect(slash).toMatchObject({ amount: String(PER_GPU / 10), reason: "wrong_row", appeal: null });
    const text = slashTranscriptText(slash!.evidence.transcript);
    expect(createHash("sha256").update(text).digest("hex")).toBe(slash!.evidence.transcriptHash);
    expect(slash!.evidence.transcript).toMatchObject({
      outcome: "fail",
      reason: "wrong_row",
      trigger: "admin",
    });
    const view = await call<{ eligibility: { reasons: string[] } }>(
      w.t,
      "GET",
      `/v1/devices/${device.deviceId}`,
      w.supplierKey,
    );
    expect(view.body.eligibility.reasons).toContain("stake_missing");
  });

  it("refunds the slash exactly once the re-proof the appeal asked for passes", async () => {
    const [slash] = await slashesOf(device.deviceId);
    const appeal = await call<SlashView>(w.t, "POST", `/v1/slashes/${slash!.id}/appeal`, w.supplierKey, {
      reason: "a driver update corrupted one proof",
    });
    expect([appeal.status, appeal.body.appeal?.status]).toEqual([202, "pending"]);
    const decided = await waitFor("the appeal's decision", async () => {
      const [now] = await slashesOf(device.deviceId);
      return now?.appeal?.status !== "pending" ? now : undefined;
    });
    expect(decided.appeal?.status).toBe("refunded");
    const stakes = await call<{ items: { bonded: string }[] }>(w.t, "GET", "/v1/stakes", w.supplierKey);
    expect(stakes.body.items.map((s) => s.bonded)).toEqual([String(PER_GPU)]);
    expect(await ledgerImbalance(w.t.server.ctx.db)).toBe(0n);
    // Only the one slash: the passing re-proof slashed nothing.
    expect(await slashesOf(device.deviceId)).toHaveLength(1);
  });
});
