import type { Containment } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { sendWebhook, type WebhookConfig, type WebhookTransport } from "./alert-webhook.js";
import { type AlertRecord, findActiveAlert, insertAlert, markContained } from "./alerts.js";
import { appendAudit } from "./audit-log.js";
import { applyContainment, type ContainmentDeps, containmentFor } from "./containment.js";
import type { Finding } from "./signals.js";

/** What raising an alert needs: storage, containment, and the places an alert is announced. */
export interface RaiseContext {
  db: Db;
  deps: ContainmentDeps;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  alertsCounter?: { inc(labels: { rule: string; severity: string }): void } | undefined;
  webhook: WebhookConfig;
  webhookTransport?: WebhookTransport | undefined;
  containment: boolean;
  blockSeconds?: number | undefined;
}

/**
 * Turns a finding into an alert: stores it (unless an open alert already covers its rule and subject), applies
 * its containment, and records it in the audit log, the metrics and a structured log line. Admins are alerted
 * as critical but never contained: operators must not be locked out by their own monitor.
 */
export async function raiseAlert(ctx: RaiseContext, found: Finding): Promise<AlertRecord | null> {
  const finding = found.subject.admin ? { ...found, severity: "critical" as const, contain: false } : found;
  const planned = ctx.containment ? containmentFor(finding, ctx.blockSeconds) : { kind: "none" as const };
  const alert = await insertAlertOnce(ctx.db, finding, planned);
  if (!alert) return null;
  let applied = planned;
  if (planned.kind !== "none") {
    try {
      applied = await applyContainment(ctx.deps, planned, alert.id);
      if (applied.kind !== "none") await markContained(ctx.db, alert.id, applied);
    } catch (error) {
      ctx.log.error({ err: error, alertId: alert.id }, "security containment failed");
    }
  }
  await appendAudit(ctx.db, {
    actorType: "system",
    actorId: "security-monitor",
    action: "security.alert.raise",
    objectType: "alert",
    objectId: alert.id,
    outcome: "ok",
    details: {
      rule: finding.rule,
      severity: finding.severity,
      subject: finding.subject.key,
      containment: applied,
    },
  });
  ctx.alertsCounter?.inc({ rule: finding.rule, severity: finding.severity });
  ctx.log.warn(
    {
      alert: { id: alert.id, rule: finding.rule, severity: finding.severity, subject: finding.subject.key },
      containment: applied,
      evidence: finding.evidence,
    },
    "security alert raised",
  );
  return { ...alert, containment: applied, contained: applied.kind !== "none" };
}

/**
 * Stores the alert unless one for the same rule and subject is still open. Replicas share their observations,
 * so several may reach the same finding within milliseconds: a transaction-scoped advisory lock on the rule and
 * subject makes the check and the insert one step across all of them.
 */
async function insertAlertOnce(db: Db, finding: Finding, planned: Containment): Promise<AlertRecord | null> {
  return db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`security_alert|${finding.rule}|${finding.subject.key}`}))`.execute(
      tx,
    );
    if (await findActiveAlert(tx, finding.rule, finding.subject.key)) return null;
    return insertAlert(tx, finding, planned);
  });
}

/** Posts the alert to the configured webhook and audits the delivery or the refusal. */
export async function deliverAlertWebhook(ctx: RaiseContext, alert: AlertRecord): Promise<void> {
  // The webhook carries no IP: it leaves the system, and source addresses are private.
  const { ip: _ip, reviewNote: _n, ...payload } = alert;
  const result = await sendWebhook(
    ctx.webhook,
    { type: "ignis.security.alert", alert: payload },
    ctx.webhookTransport,
  );
  await appendAudit(ctx.db, {
    actorType: "system",
    actorId: "security-monitor",
    action: "security.webhook.deliver",
    objectType: "alert",
    objectId: alert.id,
    outcome: result.outcome === "sent" ? "ok" : `${result.outcome}:webhook`,
    details: { ...result },
  });
  if (result.outcome !== "sent")
    ctx.log.warn({ alertId: alert.id, ...result }, "alert webhook not delivered");
}
