import { z } from "zod";
import { Cursor, PageSize, Timestamp } from "./common.js";

/** A security alert's identifier. */
export const AlertId = z.string().regex(/^alr_[a-z0-9]{26}$/);

/** How bad an alert is; `critical` and `high` page someone. */
export const AlertSeverity = z.enum(["low", "medium", "high", "critical"]);
/** How bad an alert is. */
export type AlertSeverity = z.infer<typeof AlertSeverity>;

/** Where an alert is in its review: open, seen by an admin, or closed with its containment lifted. */
export const AlertStatus = z.enum(["open", "acknowledged", "released"]);
/** Where an alert is in its review. */
export type AlertStatus = z.infer<typeof AlertStatus>;

/** The detection rules that raise alerts. */
export const AlertRule = z.enum([
  "write_surge",
  "object_sweep",
  "refusal_burst",
  "hardware_change",
  "unknown_device_handshake",
  "device.duplicate_session",
  "device.unsolicited_rotation",
  "key_minting",
  "sustained_writes",
]);
/** A detection rule's name. */
export type AlertRule = z.infer<typeof AlertRule>;

/** What was done automatically when the alert fired, held until an admin releases it. */
export const Containment = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("none") }),
  z.object({ kind: z.literal("suspend_api_key"), keyId: z.string() }),
  z.object({ kind: z.literal("freeze_user_writes"), userId: z.string() }),
  z.object({ kind: z.literal("suspend_user"), userId: z.string() }),
  z.object({ kind: z.literal("quarantine_device"), deviceId: z.string(), previousStatus: z.string() }),
  z.object({ kind: z.literal("block_ip"), ip: z.string(), seconds: z.number().int() }),
]);
/** What was done automatically when the alert fired. */
export type Containment = z.infer<typeof Containment>;

/** A security alert as admins see it (the IP is admin-only and never public). */
export const AlertView = z.object({
  id: AlertId,
  rule: AlertRule,
  severity: AlertSeverity,
  status: AlertStatus,
  subject: z.string(),
  actorType: z.string().nullable(),
  actorId: z.string().nullable(),
  credentialId: z.string().nullable(),
  ip: z.string().nullable(),
  objectType: z.string().nullable(),
  objectId: z.string().nullable(),
  evidence: z.record(z.string(), z.unknown()),
  containment: Containment,
  /** True while the containment is in force (applied and not yet released). */
  contained: z.boolean(),
  createdAt: Timestamp,
  acknowledgedAt: Timestamp.nullable(),
  acknowledgedBy: z.string().nullable(),
  releasedAt: Timestamp.nullable(),
  releasedBy: z.string().nullable(),
});
/** A security alert as admins see it. */
export type AlertView = z.infer<typeof AlertView>;

/** Query of `GET /v1/admin/alerts`. */
export const AlertListQuery = z.strictObject({
  status: AlertStatus.optional(),
  rule: AlertRule.optional(),
  cursor: AlertId.optional(),
  limit: PageSize,
});

/** Body of `POST /v1/admin/alerts/{id}/acknowledge` and `/release` (an optional review note). */
export const AlertReviewBody = z.strictObject({ note: z.string().trim().max(500).optional() }).optional();

/** One audit record as admins see it, including the private source IP. */
export const AuditRecordView = z.object({
  seq: z.string(),
  at: Timestamp,
  actorType: z.string(),
  actorId: z.string().nullable(),
  credentialId: z.string().nullable(),
  action: z.string(),
  objectType: z.string().nullable(),
  objectId: z.string().nullable(),
  outcome: z.string(),
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
/** One audit record as admins see it. */
export type AuditRecordView = z.infer<typeof AuditRecordView>;

/** Query of `GET /v1/admin/audit`: every filter is exact except `since`/`until` (ISO times). */
export const AuditSearchQuery = z.strictObject({
  actor: z.string().max(200).optional(),
  credential: z.string().max(200).optional(),
  action: z.string().max(200).optional(),
  object: z.string().max(200).optional(),
  outcome: z.string().max(200).optional(),
  requestId: z.string().max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  /** The `seq` of the last record of the previous page; pages go newest first. */
  cursor: Cursor.regex(/^\d{1,19}$/).optional(),
  limit: PageSize,
});

/** Answer of `GET /v1/admin/audit/verify`: the whole chain holds, or the first row where it breaks. */
export const AuditVerificationView = z.object({
  ok: z.boolean(),
  rows: z.number().int(),
  brokenSeq: z.string().optional(),
  reason: z.string().optional(),
});
/** Answer of the audit chain check. */
export type AuditVerificationView = z.infer<typeof AuditVerificationView>;
