import type { AlertView, Containment } from "@ignis/protocol";
import type { Selectable } from "kysely";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import type { Finding } from "./signals.js";
import type { SecurityTables } from "./tables.js";

type AlertRow = Selectable<SecurityTables["security_alerts"]>;

/** An alert as stored. */
export interface AlertRecord extends Omit<AlertView, "createdAt" | "acknowledgedAt" | "releasedAt"> {
  createdAt: Date;
  acknowledgedAt: Date | null;
  releasedAt: Date | null;
  reviewNote: string | null;
}

function toRecord(r: AlertRow): AlertRecord {
  return {
    id: r.id,
    rule: r.rule as AlertRecord["rule"],
    severity: r.severity as AlertRecord["severity"],
    status: r.status,
    subject: r.subject,
    actorType: r.actor_type,
    actorId: r.actor_id,
    credentialId: r.credential_id,
    ip: r.ip,
    objectType: r.object_type,
    objectId: r.object_id,
    evidence: r.evidence,
    containment: r.containment as Containment,
    contained: r.contained,
    createdAt: r.created_at,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    releasedAt: r.released_at,
    releasedBy: r.released_by,
    reviewNote: r.review_note,
  };
}

/** The admin view of an alert. */
export function toAlertView(a: AlertRecord): AlertView {
  const { reviewNote: _note, ...rest } = a;
  return {
    ...rest,
    createdAt: a.createdAt.toISOString(),
    acknowledgedAt: a.acknowledgedAt?.toISOString() ?? null,
    releasedAt: a.releasedAt?.toISOString() ?? null,
  };
}

/** Stores a new open alert for a finding, with the containment decided for it (not yet applied). */
export async function insertAlert(db: Db, finding: Finding, containment: Containment): Promise<AlertRecord> {
  const s = finding.subject;
  const row = await db
    .insertInto("security_alerts")
    .values({
      id: newId("alr"),
      rule: finding.rule,
      severity: finding.severity,
      subject: s.key,
      actor_type: s.actorType,
      actor_id: s.actorId,
      credential_id: s.credentialId,
      ip: s.ip,
      object_type: finding.objectType ?? null,
      object_id: finding.objectId ?? null,
      evidence: JSON.stringify(finding.evidence),
      containment: JSON.stringify(containment),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRecord(row);
}

/** Records the containment as applied (with what it had to remember, such as a device's previous status). */
export async function markContained(db: Db, id: string, containment: Containment): Promise<void> {
  await db
    .updateTable("security_alerts")
    .set({ containment: JSON.stringify(containment), contained: true })
    .where("id", "=", id)
    .execute();
}

/** The open or acknowledged alert of a rule about a subject, if any (one alert per incident). */
export async function findActiveAlert(
  db: Db,
  rule: string,
  subject: string,
): Promise<AlertRecord | undefined> {
  const row = await db
    .selectFrom("security_alerts")
    .selectAll()
    .where("rule", "=", rule)
    .where("subject", "=", subject)
    .where("status", "!=", "released")
    .orderBy("created_at", "desc")
    .limit(1)
    .executeTakeFirst();
  return row && toRecord(row);
}

/** One alert by id. */
export async function findAlert(db: Db, id: string): Promise<AlertRecord | undefined> {
  const row = await db.selectFrom("security_alerts").selectAll().where("id", "=", id).executeTakeFirst();
  return row && toRecord(row);
}

/** Alerts newest first, with keyset pagination on (created_at, id). */
export async function listAlerts(
  db: Db,
  filter: {
    status?: string | undefined;
    rule?: string | undefined;
    cursor?: string | undefined;
    limit: number;
  },
): Promise<AlertRecord[]> {
  let q = db
    .selectFrom("security_alerts")
    .selectAll()
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(filter.limit);
  if (filter.status) q = q.where("status", "=", filter.status as AlertRecord["status"]);
  if (filter.rule) q = q.where("rule", "=", filter.rule);
  if (filter.cursor) {
    const after = await findAlert(db, filter.cursor);
    if (!after) return [];
    q = q.where((eb) =>
      eb.or([
        eb("created_at", "<", after.createdAt),
        eb.and([eb("created_at", "=", after.createdAt), eb("id", "<", after.id)]),
      ]),
    );
  }
  return (await q.execute()).map(toRecord);
}

/** Marks an open alert as seen by an admin; containment stays in force. */
export async function markAcknowledged(db: Db, id: string, adminId: string, note: string | null) {
  await db
    .updateTable("security_alerts")
    .set({ status: "acknowledged", acknowledged_at: new Date(), acknowledged_by: adminId, review_note: note })
    .where("id", "=", id)
    .where("status", "=", "open")
    .execute();
}

/** Closes an alert; its containment has been lifted (or is still held by another active alert). */
export async function markReleased(db: Db, id: string, adminId: string, note: string | null) {
  await db
    .updateTable("security_alerts")
    .set({
      status: "released",
      contained: false,
      released_at: new Date(),
      released_by: adminId,
      ...(note ? { review_note: note } : {}),
    })
    .where("id", "=", id)
    .execute();
}

/** Other alerts whose containment is still in force, so releasing one does not lift another's. */
export async function listContainedAlerts(db: Db, exceptId: string): Promise<AlertRecord[]> {
  const rows = await db
    .selectFrom("security_alerts")
    .selectAll()
    .where("contained", "=", true)
    .where("id", "!=", exceptId)
    .execute();
  return rows.map(toRecord);
}
