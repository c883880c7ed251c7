import type { World } from "./world.js";

/** One audit row as the attack tests read it. */
export interface AuditRow {
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  object_id: string | null;
  request_id: string | null;
  ip: string | null;
}

/** The audit rows of one request, by the request id the test sent. */
export async function auditOf(w: World, requestId: string): Promise<AuditRow[]> {
  return w.db
    .selectFrom("audit_log")
    .select(["action", "outcome", "actor_type", "actor_id", "object_id", "request_id", "ip"])
    .where("request_id", "=", requestId)
    .execute();
}

let counter = 0;

/** A fresh request id, so a test can find the audit record its request left. */
export function requestId(label: string): string {
  counter += 1;
  return `atk-${label}-${counter}-${Date.now().toString(36)}`.slice(0, 64);
}
