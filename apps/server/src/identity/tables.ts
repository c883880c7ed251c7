import type { ColumnType, Generated } from "kysely";

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, string, string>;

/** Identity tables: users, invitations, API keys, OIDC provider storage and settings. */
export interface IdentityTables {
  users: {
    id: string;
    issuer: string;
    subject: string;
    email: string | null;
    roles: Json<string[]>;
    password_hash: string | null;
    writes_frozen_at: Timestamp | null;
    suspended_at: Timestamp | null;
    suspended_reason: string | null;
    created_at: CreatedAt;
  };
  invitations: {
    token_hash: string;
    user_id: string;
    expires_at: Timestamp;
    used_at: Timestamp | null;
    created_at: CreatedAt;
  };
  api_keys: {
    id: string;
    user_id: string;
    name: string;
    key_hash: string;
    scopes: Json<string[]>;
    created_at: CreatedAt;
    expires_at: Timestamp | null;
    last_used_at: Timestamp | null;
    revoked_at: Timestamp | null;
    suspended_at: Timestamp | null;
    suspended_reason: string | null;
  };
  oidc_payloads: {
    kind: string;
    id: string;
    payload: Json<Record<string, unknown>>;
    grant_id: string | null;
    user_code: string | null;
    uid: string | null;
    expires_at: Timestamp | null;
    consumed_at: Timestamp | null;
  };
  settings: {
    key: string;
    value: Json<unknown>;
    updated_at: Generated<Date>;
  };
}
