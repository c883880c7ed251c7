import type { ColumnType, Generated } from "kysely";

type Json<T> = ColumnType<T, string, string>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** Security tables: the hash-chained audit log, alerts and the shared rate-limit store. */
export interface SecurityTables {
  audit_log: {
    seq: ColumnType<string, string | bigint, never>;
    at: ColumnType<Date, string, never>;
    actor_type: string;
    actor_id: string | null;
    credential_id: string | null;
    action: string;
    object_type: string | null;
    object_id: string | null;
    outcome: string;
    request_id: string | null;
    ip: string | null;
    details: Json<Record<string, unknown>>;
    prev_hash: string;
    hash: string;
  };
  security_alerts: {
    id: string;
    rule: string;
    severity: string;
    status: ColumnType<"open" | "acknowledged" | "released", "open" | undefined, "acknowledged" | "released">;
    subject: string;
    actor_type: string | null;
    actor_id: string | null;
    credential_id: string | null;
    ip: string | null;
    object_type: string | null;
    object_id: string | null;
    evidence: Json<Record<string, unknown>>;
    containment: Json<Record<string, unknown>>;
    contained: Generated<boolean>;
    created_at: Generated<Date>;
    acknowledged_at: Timestamp | null;
    acknowledged_by: string | null;
    released_at: Timestamp | null;
    released_by: string | null;
    review_note: string | null;
  };
  rate_limits: {
    key: string;
    points: number;
    expire: ColumnType<string | null, string | number | null, string | number | null>;
  };
}
