import type { AuditRecordView } from "@ignis/protocol";
import type { Db } from "../db/database.js";

/** Filters of an audit search; each is an exact match except the time bounds. */
export interface AuditFilter {
  actor?: string | undefined;
  credential?: string | undefined;
  action?: string | undefined;
  object?: string | undefined;
  outcome?: string | undefined;
  requestId?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  /** Records older than this sequence number (the previous page's last `seq`). */
  cursor?: string | undefined;
  limit: number;
}

/**
 * Searches the audit log newest first. Filters use the (actor_id, seq), (object_id, seq) and (action, seq)
 * indexes of migration 0004; values are bound, never spliced into SQL.
 */
export async function searchAudit(db: Db, f: AuditFilter): Promise<AuditRecordView[]> {
  let q = db.selectFrom("audit_log").selectAll().orderBy("seq", "desc").limit(f.limit);
  if (f.actor) q = q.where("actor_id", "=", f.actor);
  if (f.credential) q = q.where("credential_id", "=", f.credential);
  if (f.action) q = q.where("action", "=", f.action);
  if (f.object) q = q.where("object_id", "=", f.object);
  if (f.outcome) q = q.where("outcome", "=", f.outcome);
  if (f.requestId) q = q.where("request_id", "=", f.requestId);
  if (f.since) q = q.where("at", ">=", new Date(f.since) as never);
  if (f.until) q = q.where("at", "<", new Date(f.until) as never);
  if (f.cursor) q = q.where("seq", "<", f.cursor);
  const rows = await q.execute();
  return rows.map((r) => ({
    seq: String(r.seq),
    at: (r.at instanceof Date ? r.at : new Date(r.at)).toISOString(),
    actorType: r.actor_type,
    actorId: r.actor_id,
    credentialId: r.credential_id,
    action: r.action,
    objectType: r.object_type,
    objectId: r.object_id,
    outcome: r.outcome,
    requestId: r.request_id,
    ip: r.ip,
    details: r.details,
  }));
}
