import { createHash } from "node:crypto";
import { IgnisError, type SlashTranscript, slashTranscriptText } from "@ignis/protocol";
import type { Db } from "../db/database.js";

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/** The transcript of a decided challenge as stored (proof_challenges), in the fields the hash covers. */
export async function challengeTranscript(db: Db, challengeId: string): Promise<SlashTranscript> {
  const c = await db
    .selectFrom("proof_challenges")
    .selectAll()
    .where("id", "=", challengeId)
    .executeTakeFirst();
  if (!c) throw new IgnisError("not_found", "no such challenge");
  return {
    challengeId: c.id,
    deviceId: c.device_id,
    profile: c.profile,
    gpuCount: c.gpu_count,
    n: c.n,
    innerDim: c.inner_dim,
    batch: c.batch,
    revealRows: c.reveal_rows,
    expectedMs: c.expected_ms,
    deadlineMs: c.deadline_ms,
    trigger: c.trigger,
    issuedAt: iso(c.issued_at)!,
    commitAt: iso(c.commit_at),
    revealRequestedAt: iso(c.reveal_requested_at),
    revealAt: iso(c.reveal_at),
    decidedAt: iso(c.decided_at),
    outcome: c.outcome,
    reason: c.reason,
    commitLatencyMs: c.commit_latency_ms,
    rowsChecked: c.rows_checked,
  };
}

/** SHA-256 (lower-case hex) of the transcript's text: what anyone recomputes to recheck a slash. */
export function transcriptHash(transcript: SlashTranscript): string {
  return createHash("sha256").update(slashTranscriptText(transcript)).digest("hex");
}
