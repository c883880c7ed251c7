import { createHash } from "node:crypto";
import { sql } from "kysely";
import type { Db } from "../db/database.js";

/** Who did something: a user (through a token or API key), a device session, the system, or nobody known. */
export type AuditActorType = "user" | "device" | "system" | "anonymous";

/** One record to append to the audit log. */
export interface AuditEntry {
  actorType: AuditActorType;
  actorId?: string | null;
  credentialId?: string | null;
  action: string;
  objectType?: string | null;
  objectId?: string | null;
  /** `ok`, or `refused:<code>` / `failed:<code>`. */
  outcome: string;
  requestId?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

/** The hash of the row before the first one. */
export const GENESIS_HASH = "0".repeat(64);

/** The fields of a row that its hash covers, in a fixed order. */
export interface HashedAuditRow {
  seq: string;
  at: string;
  actor_type: string;
  actor_id: string | null;
  credential_id: string | null;
  action: string;
  object_type: string | null;
  object_id: string | null;
  outcome: string;
  request_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

/** H(previous hash ‖ canonical row): the link of the chain. */
export function auditRowHash(prevHash: string, row: HashedAuditRow): string {
  const canonical = JSON.stringify([
    row.seq,
    row.at,
    row.actor_type,
    row.actor_id,
    row.credential_id,
    row.action,
    row.object_type,
    row.object_id,
    row.outcome,
    row.request_id,
    row.ip,
    canonicalJson(row.details),
  ]);
  return createHash("sha256").update(prevHash).update("\n").update(canonical).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

const AUDIT_LOCK_KEY = 0x1a0d17;

// An attacker's input must never make its own audit record unstorable: PostgreSQL text and jsonb reject NUL
// and lone UTF-16 surrogates (a worker frame or an upstream claim can carry them past the HTTP input check).
function storable(value: string | null | undefined): string | null {
  return value === null || value === undefined
    ? null
    : value.replaceAll("\u0000", "\uFFFD").replace(/[\uD800-\uDFFF]/gu, "\uFFFD");
}

function storableJson(value: unknown): unknown {
  if (typeof value === "string") return storable(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storableJson(v)]));
  return value;
}

/**
 * Appends records to the chain in one transaction. A transaction-scoped advisory lock serialises appenders, so
 * replicas sharing one PostgreSQL still build a single chain.
 */
export async function appendAudit(db: Db, entries: AuditEntry | AuditEntry[]): Promise<void> {
  await db.transaction().execute((trx) => appendAuditWithin(trx, entries));
}

/**
 * Appends records inside the caller's open transaction, so a write and its audit record commit together or
 * not at all (http/audited-write.ts). The chain's advisory lock is held until that transaction ends: call it
 * as the transaction's last step.
 */
export async function appendAuditWithin(trx: Db, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(trx);
  const last = await trx
    .selectFrom("audit_log")
    .select(["seq", "hash"])
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
  let seq = BigInt(last?.seq ?? 0);
  let prevHash = last?.hash ?? GENESIS_HASH;
  const rows = list.map((e) => {
    seq += 1n;
    const row: HashedAuditRow = {
      seq: seq.toString(),
      at: new Date().toISOString(),
      actor_type: e.actorType,
      actor_id: storable(e.actorId),
      credential_id: storable(e.credentialId),
      action: storable(e.action)!,
      object_type: storable(e.objectType),
      object_id: storable(e.objectId),
      outcome: storable(e.outcome)!,
      request_id: storable(e.requestId),
      ip: storable(e.ip),
      details: storableJson(e.details ?? {}) as Record<string, unknown>,
    };
    const hash = auditRowHash(prevHash, row);
    const stored = { ...row, details: JSON.stringify(row.details), prev_hash: prevHash, hash };
    prevHash = hash;
    return stored;
  });
  await trx.insertInto("audit_log").values(rows).execute();
}

/** Result of checking the whole chain. */
export type AuditVerification =
  | { ok: true; rows: number }
  | { ok: false; rows: number; brokenSeq: string; reason: string };

/** Walks the chain in order, in pages, and names the first row whose link or hash does not hold. */
export async function verifyAuditChain(db: Db, pageSize = 5000): Promise<AuditVerification> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1n;
  let count = 0;
  for (;;) {
    const page = await db
      .selectFrom("audit_log")
      .selectAll()
      .where("seq", ">=", expectedSeq.toString())
      .orderBy("seq")
      .limit(pageSize)
      .execute();
    for (const r of page) {
      // PostgreSQL's driver returns bigint as a string, PGlite as a number: hash the canonical string.
      const seqText = String(r.seq);
      const seq = BigInt(seqText);
      if (seq !== expectedSeq)
        return { ok: false, rows: count, brokenSeq: expectedSeq.toString(), reason: "missing row" };
      if (r.prev_hash !== prevHash)
        return { ok: false, rows: count, brokenSeq: seqText, reason: "broken link" };
      const at = r.at instanceof Date ? r.at.toISOString() : new Date(r.at).toISOString();
      const recomputed = auditRowHash(prevHash, { ...r, seq: seqText, at });
      if (recomputed !== r.hash) return { ok: false, rows: count, brokenSeq: seqText, reason: "row altered" };
      prevHash = r.hash;
      expectedSeq += 1n;
      count += 1;
    }
    if (page.length < pageSize) return { ok: true, rows: count };
  }
}
