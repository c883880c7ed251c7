import { beforeAll, expect, it } from "vitest";
import { hardwareProfiles } from "../../../../packages/protocol/src/hardware-profiles.js";
import type { Db } from "../db/database.js";
import { createUserWithKey, insertDevices } from "../security/security-fixtures.js";
import { describeEachDialect } from "../testing/dialects.js";
import {
  cancelAbandonedChallenges,
  connectedDevicesProofState,
  insertChallenge,
  insertReview,
  listChallenges,
  recordDecision,
  verificationHistory,
} from "./challenge-store.js";
import { seededRandom } from "./random-source.js";
import { issueChallenge } from "./simulated-slack.js";
import { createVerifierKeyring } from "./verifier-key.js";
import { proofResult } from "./verify-reveal.js";

const profile = hardwareProfiles.find((p) => p.id === "sim-a100")!;
const keyring = createVerifierKeyring({ random: seededRandom("store keys") });
const T0 = Date.parse("2026-11-25T10:00:00Z");

describeEachDialect("proof challenge store", (database) => {
  let db: Db;
  let deviceId: string;
  let adminId: string;
  let n = 0;

  /** Stores a challenge issued `atMs` and decides it with `outcome` one second later. */
  async function stored(outcome: "pass" | "fail" | "timeout" | "cancelled" | "pending", atMs: number) {
    const random = seededRandom(`challenge ${n++}`);
    const challenge = issueChallenge({ profile, gpuCount: 1, rttMs: 5, keyring, nowMs: atMs, random });
    await insertChallenge(db, { challenge, deviceId, rttMs: 5, trigger: "schedule", replica: "r1" });
    if (outcome !== "pending") {
      await recordDecision(db, challenge.challengeId, { outcome, reason: null, decidedAtMs: atMs + 1000 });
    }
    return challenge.challengeId;
  }

  beforeAll(async () => {
    db = database().db;
    adminId = (await createUserWithKey(db, ["admin"])).userId;
    const owner = await createUserWithKey(db, ["supplier"]);
    [deviceId] = await insertDevices(db, owner.userId, 1);
  });

  it("stores a challenge's sizes and timings and its verdict, and nothing of its seeds", async () => {
    const challenge = issueChallenge({
      profile,
      gpuCount: 1,
      rttMs: 12,
      keyring,
      nowMs: T0,
      random: seededRandom("a"),
    });
    await insertChallenge(db, { challenge, deviceId, rttMs: 12, trigger: "connect", replica: "r1" });
    await recordDecision(db, challenge.challengeId, {
      outcome: "pass",
      reason: null,
      decidedAtMs: T0 + 90,
      commitAtMs: T0 + 60,
      revealRequestedAtMs: T0 + 61,
      revealAtMs: T0 + 89,
    });
    const row = await db
      .selectFrom("proof_challenges")
      .selectAll()
      .where("id", "=", challenge.challengeId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      device_id: deviceId,
      profile: "sim-a100",
      n: challenge.size.n,
      inner_dim: challenge.size.inner,
      batch: challenge.size.batch,
      deadline_ms: challenge.size.deadlineMs,
      rtt_ms: 12,
      trigger: "connect",
      outcome: "pass",
    });
    const since = (d: Date | null) => new Date(d!).getTime() - new Date(row.issued_at).getTime();
    expect([since(row.commit_at), since(row.reveal_requested_at), since(row.reveal_at)]).toEqual([
      60, 61, 89,
    ]);
    const text = JSON.stringify(row);
    for (const secret of [challenge.message.seed, challenge.message.bSeed])
      expect(text).not.toContain(secret);
  });

  it("never overwrites a verdict: a late decision for a decided challenge changes nothing", async () => {
    const id = await stored("fail", T0 + 10_000);
    await recordDecision(db, id, { outcome: "pass", reason: null, decidedAtMs: T0 + 20_000 });
    const [latest] = await listChallenges(db, deviceId, { limit: 1 });
    expect(latest).toMatchObject({ id, outcome: "fail" });
  });

  it("lists a device's challenges newest first, page by page", async () => {
    const all = await listChallenges(db, deviceId, { limit: 100 });
    const first = await listChallenges(db, deviceId, { limit: 1 });
    const second = await listChallenges(db, deviceId, { limit: 1, cursor: first[0]!.id });
    expect([first[0]!.id, second[0]!.id]).toEqual(all.slice(0, 2).map((c) => c.id));
    expect(await listChallenges(db, deviceId, { limit: 5, cursor: "no-such-challenge" })).toEqual([]);
  });

  it("gives the life cycle decided verdicts since the last review, oldest first, cancelled ones left out", async () => {
    await stored("cancelled", T0 + 30_000);
    await stored("timeout", T0 + 40_000);
    expect((await verificationHistory(db, deviceId)).map((e) => e.outcome)).toEqual([
      "pass",
      "fail",
      "timeout",
    ]);
    await insertReview(db, { deviceId, adminId, note: "reviewed" });
    expect(await verificationHistory(db, deviceId)).toEqual([]);
  });

  it("cancels challenges a stopped replica left pending, and only those old enough", async () => {
    const old = await stored("pending", Date.now() - 20 * 60_000);
    const fresh = await stored("pending", Date.now());
    expect(await cancelAbandonedChallenges(db, new Date(Date.now() - 15 * 60_000))).toBe(1);
    const byId = new Map((await listChallenges(db, deviceId, { limit: 100 })).map((c) => [c.id, c]));
    expect(byId.get(old)).toMatchObject({ outcome: "cancelled", reason: "server_stopped" });
    expect(byId.get(fresh)).toMatchObject({ outcome: "pending" });
  });

  it("gives the life cycle each verdict's reason and commit latency: stalls, late commits, speed fraud", async () => {
    const owner = await createUserWithKey(db, ["supplier"]);
    const [device] = await insertDevices(db, owner.userId, 1);
    const verdicts = [
      { outcome: "timeout", reason: "commit_late", latency: null },
      { outcome: "timeout", reason: "host_stall", latency: 3_600 },
      { outcome: "timeout", reason: "commit_late", latency: 1_210 },
      { outcome: "fail", reason: "speed_short", latency: 1_190 },
    ] as const;
    for (const [i, v] of verdicts.entries()) {
      const atMs = T0 + 100_000 + i * 10_000;
      const challenge = issueChallenge({
        profile,
        gpuCount: 1,
        rttMs: 5,
        keyring,
        nowMs: atMs,
        random: seededRandom(`history ${i}`),
      });
      await insertChallenge(db, { challenge, deviceId: device!, rttMs: 5, trigger: "retry", replica: "r1" });
      await recordDecision(db, challenge.challengeId, {
        outcome: v.outcome,
        reason: v.reason,
        decidedAtMs: atMs + 2_000,
        result: proofResult(challenge, { outcome: v.outcome, reason: v.reason, commitLatencyMs: v.latency }),
      });
    }
    expect(
      (await verificationHistory(db, device!)).map((e) => [
        e.outcome,
        e.reason,
        e.commitLatencyMs,
        e.deadlineMs,
      ]),
    ).toEqual(verdicts.map((v) => [v.outcome, v.reason, v.latency, expect.any(Number)]));

    // Devices connecting together are read in one batch, each with exactly its own history and state.
    const batch = await connectedDevicesProofState(db, [deviceId, device!, "dev_missing"]);
    expect([...batch.keys()].sort()).toEqual([deviceId, device!].sort());
    for (const id of [deviceId, device!]) {
      expect(batch.get(id)!.history).toEqual(await verificationHistory(db, id));
      const row = await db
        .selectFrom("devices")
        .select("verification")
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      expect(batch.get(id)!.verification).toEqual(row.verification);
    }
    expect(batch.get(device!)!.history).toHaveLength(verdicts.length);
  });

  it("keeps the last 32 verdicts of each device when devices connecting together are read in one batch", async () => {
    const owner = await createUserWithKey(db, ["supplier"]);
    const [busy, quiet] = await insertDevices(db, owner.userId, 2);
    for (let i = 0; i < 34; i++) {
      const atMs = T0 + 500_000 + i * 10_000;
      const challenge = issueChallenge({
        profile,
        gpuCount: 1,
        rttMs: 5,
        keyring,
        nowMs: atMs,
        random: seededRandom(`deep ${i}`),
      });
      // Every third one was part of a group round, which the life cycle reads (verification-state.ts).
      await insertChallenge(db, {
        challenge,
        deviceId: busy!,
        rttMs: 5,
        trigger: "schedule",
        replica: "r1",
        groupRound: i % 3 === 0 ? `round-${i}` : null,
      });
      await recordDecision(db, challenge.challengeId, {
        outcome: i % 2 ? "pass" : "fail",
        reason: null,
        decidedAtMs: atMs + 1000,
      });
    }
    const batch = await connectedDevicesProofState(db, [busy!, quiet!]);
    expect(batch.get(busy!)!.history).toEqual(await verificationHistory(db, busy!));
    expect(batch.get(busy!)!.history).toHaveLength(32);
    expect(batch.get(busy!)!.history.filter((h) => h.grouped)).toHaveLength(11);
    expect(batch.get(quiet!)!.history).toEqual([]);
  });
});
