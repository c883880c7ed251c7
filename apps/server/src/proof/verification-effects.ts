import type { Verification } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { setVerification } from "../devices/verification.js";
import { listContainedAlerts } from "../security/alerts.js";
import { appendAudit } from "../security/audit-log.js";
import {
  applyContainment,
  type ContainmentDeps,
  containmentTarget,
  liftContainment,
} from "../security/containment.js";
import { insertReview } from "./challenge-store.js";
import type { VerificationDecision } from "./verification-state.js";

/** What a decision changed on the device record. */
export interface AppliedDecision {
  readonly from: Verification;
  readonly to: Verification;
  readonly quarantined: boolean;
  readonly lifted: boolean;
}

const PROOF_ACTOR = { actorType: "system" as const, actorId: "proof-of-gpu" };

/** True while a security alert (not the proof module) holds the device in quarantine. */
async function heldBySecurity(db: Db, deviceId: string): Promise<boolean> {
  const held = await listContainedAlerts(db, "");
  return held.some((a) => containmentTarget(a.containment) === `dev:${deviceId}`);
}

/**
 * Writes a life-cycle decision to the device: verification (and verified_at), quarantine through security's
 * containment on a second failure, and release of that quarantine when a later challenge passes, unless a
 * security alert still holds the device. The device stays connected while quarantined, so the challenge at
 * the end of the quarantine can clear it. Changes are audited; a pass that changes nothing is not.
 */
export async function applyDecision(
  deps: ContainmentDeps,
  deviceId: string,
  decision: VerificationDecision,
): Promise<AppliedDecision | null> {
  const { db } = deps;
  const device = await db
    .selectFrom("devices")
    .select(["verification", "status"])
    .where("id", "=", deviceId)
    .executeTakeFirst();
  if (!device || device.status === "revoked") return null;
  await setVerification(db, deviceId, decision.state);
  const target = { kind: "quarantine_device" as const, deviceId, previousStatus: "unknown" };
  let quarantined = false;
  let lifted = false;
  if (decision.quarantine && device.status !== "quarantined") {
    await applyContainment(deps, target, "proof-of-gpu");
    quarantined = true;
  } else if (
    decision.state === "verified" &&
    device.status === "quarantined" &&
    device.verification === "failed" &&
    !(await heldBySecurity(db, deviceId))
  ) {
    await liftContainment(deps, target);
    lifted = true;
  }
  const applied = { from: device.verification, to: decision.state, quarantined, lifted };
  if (applied.from !== applied.to || quarantined || lifted) {
    await appendAudit(db, {
      ...PROOF_ACTOR,
      action: "device.verification",
      objectType: "device",
      objectId: deviceId,
      outcome: "ok",
      details: {
        ...applied,
        consecutiveFailures: decision.consecutiveFailures,
        excusedStalls: decision.excusedStalls,
      },
    });
  }
  return applied;
}

/**
 * An admin's review of a failed device: earlier failures stop counting, verification goes back to
 * `unverified` (a fresh challenge follows at once when the device is connected) and the quarantine is lifted
 * unless a security alert holds it. A device that has not failed is left as it is.
 */
export async function clearAfterReview(
  deps: ContainmentDeps,
  input: { deviceId: string; adminId: string; note: string | null },
): Promise<{ cleared: boolean; lifted: boolean }> {
  const { db } = deps;
  const device = await db
    .selectFrom("devices")
    .select(["verification", "status"])
    .where("id", "=", input.deviceId)
    .executeTakeFirst();
  if (!device || device.status === "revoked" || device.verification !== "failed") {
    return { cleared: false, lifted: false };
  }
  await insertReview(db, input);
  await setVerification(db, input.deviceId, "unverified");
  let lifted = false;
  if (device.status === "quarantined" && !(await heldBySecurity(db, input.deviceId))) {
    await liftContainment(deps, {
      kind: "quarantine_device",
      deviceId: input.deviceId,
      previousStatus: "unknown",
    });
    lifted = true;
  }
  return { cleared: true, lifted };
}
