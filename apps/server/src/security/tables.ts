import type { ColumnType } from "kysely";

type Json<T> = ColumnType<T, string, string>;

/** Security tables: the hash-chained audit log. */
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
}
