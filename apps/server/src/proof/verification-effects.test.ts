import { beforeAll, expect, it } from "vitest";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import { createRateLimits } from "../security/rate-limits.js";
import { createUserWithKey, insertDevices } from "../security/security-fixtures.js";
import { describeEachDialect } from "../testing/dialects.js";
import { applyDecision, clearAfterReview } from "./verification-effects.js";
import type { VerificationDecision } from "./verification-state.js";

const pass: VerificationDecision = {
  state: "verified",
  quarantine: false,
  consecutiveFailures: 0,
  excusedStalls: 0,
  groupBound: false,
  nextChallengeAtMs: 0,
};
const firstFailure: VerificationDecision = {
  state: "unverified",
  quarantine: false,
  consecutiveFailures: 1,
  excusedStalls: 0,
  groupBound: false,
  nextChallengeAtMs: 0,
};
const secondFailure: VerificationDecision = {
  state: "failed",
  quarantine: true,
  consecutiveFailures: 2,
  excusedStalls: 0,
  groupBound: false,
  nextChallengeAtMs: 0,
};

describeEachDialect("verification effects of proof verdicts", (database) => {
  let db: Db;
  let ownerId: string;
  let adminId: string;
  const deps = () => ({ db, rateLimits: createRateLimits({ enabled: false }) });
  const row = (id: string) =>
    db
      .selectFrom("devices")
      .select(["status", "verification", "verified_at"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
  const online = async () => (await insertDevices(db, ownerId, 1, { status: "online" }))[0]!;

  beforeAll(async () => {
    db = database().db;
    ownerId = (await createUserWithKey(db, ["supplier"])).userId;
    adminId = (await createUserWithKey(db, ["admin"])).userId;
  });

  it("verifies a device on a pass and stamps verified_at", async () => {
    const id = await online();
    expect(await applyDecision(deps(), id, pass)).toMatchObject({ from: "unverified", to: "verified" });
    expect(await row(id)).toMatchObject({ status: "online", verification: "verified" });
    expect((await row(id)).verified_at).not.toBeNull();
  });

  it("makes a device unverified on a first failure, then failed and quarantined on the second", async () => {
    const id = await online();
    await applyDecision(deps(), id, pass);
    await applyDecision(deps(), id, firstFailure);
    expect(await row(id)).toMatchObject({ status: "online", verification: "unverified", verified_at: null });
    expect(await applyDecision(deps(), id, secondFailure)).toMatchObject({ quarantined: true });
    expect(await row(id)).toMatchObject({ status: "quarantined", verification: "failed" });
  });

  it("audits every change of verification, and not a pass that changes nothing", async () => {
    const id = await online();
    await applyDecision(deps(), id, pass);
    await applyDecision(deps(), id, pass);
    await applyDecision(deps(), id, firstFailure);
    const records = await db
      .selectFrom("audit_log")
      .select(["actor_id", "details"])
      .where("action", "=", "device.verification")
      .where("object_id", "=", id)
      .execute();
    expect(records.map((r) => [r.actor_id, (r.details as { to: string }).to])).toEqual([
      ["proof-of-gpu", "verified"],
      ["proof-of-gpu", "unverified"],
    ]);
  });

  it("lifts its own quarantine when a later challenge passes", async () => {
    const id = await online();
    await applyDecision(deps(), id, secondFailure);
    expect(await applyDecision(deps(), id, pass)).toMatchObject({ lifted: true });
    expect(await row(id)).toMatchObject({ status: "offline", verification: "verified" });
  });

  it("leaves a quarantine a security alert holds in force, even when the device passes", async () => {
    const id = await online();
    await applyDecision(deps(), id, secondFailure);
    await db
      .insertInto("security_alerts")
      .values({
        id: newId("alr"),
        rule: "hardware_change",
        severity: "high",
        subject: `device:${id}`,
        evidence: JSON.stringify({}),
        containment: JSON.stringify({ kind: "quarantine_device", deviceId: id, previousStatus: "online" }),
        contained: true,
      })
      .execute();
    expect(await applyDecision(deps(), id, pass)).toMatchObject({ lifted: false });
    expect(await row(id)).toMatchObject({ status: "quarantined", verification: "verified" });
  });

  it("clears a failed device after review: unverified, out of quarantine, earlier failures forgotten", async () => {
    const id = await online();
    await applyDecision(deps(), id, secondFailure);
    expect(await clearAfterReview(deps(), { deviceId: id, adminId, note: "new riser cable" })).toEqual({
      cleared: true,
      lifted: true,
    });
    expect(await row(id)).toMatchObject({ status: "offline", verification: "unverified" });
    const reviews = await db.selectFrom("proof_reviews").selectAll().where("device_id", "=", id).execute();
    expect(reviews).toMatchObject([{ reviewed_by: adminId, note: "new riser cable" }]);
  });

  it("leaves a device that has not failed as it is when an admin clears it", async () => {
    const id = await online();
    await applyDecision(deps(), id, pass);
    expect(await clearAfterReview(deps(), { deviceId: id, adminId, note: null })).toEqual({
      cleared: false,
      lifted: false,
    });
    expect(await row(id)).toMatchObject({ status: "online", verification: "verified" });
  });

  it("does nothing to a revoked device", async () => {
    const id = await online();
    await db.updateTable("devices").set({ status: "revoked" }).where("id", "=", id).execute();
    expect(await applyDecision(deps(), id, pass)).toBeNull();
    expect(await row(id)).toMatchObject({ status: "revoked", verification: "unverified" });
  });
});
