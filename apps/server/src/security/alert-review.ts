import { IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import {
  type AlertRecord,
  findAlert,
  listContainedAlerts,
  markAcknowledged,
  markReleased,
} from "./alerts.js";
import { type ContainmentDeps, containmentTarget, liftContainment } from "./containment.js";

/** Marks an alert as seen by an admin (idempotent); its containment stays in force. */
export async function acknowledgeAlert(
  db: Db,
  alertId: string,
  adminId: string,
  note: string | null,
): Promise<AlertRecord> {
  const alert = await findAlert(db, alertId);
  if (!alert) throw new IgnisError("not_found", "no such alert");
  if (alert.status === "open") await markAcknowledged(db, alertId, adminId, note);
  return (await findAlert(db, alertId))!;
}

/**
 * Closes an alert and lifts its containment, unless another alert still in force holds the same key, user,
 * device or address (two rules often catch one incident; releasing one must not free the other's subject).
 * Releasing an already released alert changes nothing.
 */
export async function releaseAlert(
  deps: ContainmentDeps,
  alert: AlertRecord,
  adminId: string,
  note: string | null,
): Promise<AlertRecord & { lifted: boolean }> {
  if (alert.status === "released") return { ...alert, lifted: false };
  let lifted = false;
  if (alert.contained) {
    const target = containmentTarget(alert.containment);
    const others = await listContainedAlerts(deps.db, alert.id);
    const stillHeld = others.some((other) => containmentTarget(other.containment) === target);
    if (!stillHeld) {
      await liftContainment(deps, alert.containment);
      lifted = true;
    }
  }
  await markReleased(deps.db, alert.id, adminId, note);
  return { ...(await findAlert(deps.db, alert.id))!, lifted };
}
