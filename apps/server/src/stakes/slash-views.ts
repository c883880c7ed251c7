import { IgnisError, type SlashTranscript, type SlashView } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";

const PAGE = 100;

/**
 * Slashes newest first, as anyone may read them: the device, the amount, the fraud reason and the evidence (the
 * challenge's transcript and its hash), never the owner. `cursor` is the `nextCursor` of the previous page.
 */
export async function listSlashes(
  db: Db,
  query: { deviceId?: string | undefined; cursor?: string | undefined },
): Promise<{ items: SlashView[]; nextCursor: string | null }> {
  let q = db
    .selectFrom("slashes")
    .select([
      "id",
      "device_id",
      sql<string>`amount::text`.as("amount"),
      "reason",
      "challenge_id",
      "transcript",
      "transcript_hash",
      "at",
      "appeal_status",
      "appealed_at",
      "appeal_resolved_at",
    ])
    .orderBy("at", "desc")
    .orderBy("id", "desc")
    .limit(PAGE + 1);
  if (query.deviceId) q = q.where("device_id", "=", query.deviceId);
  if (query.cursor) {
    const after = parseCursor(query.cursor);
    q = q.where(sql<boolean>`(at, id) < (${after.at}::timestamptz, ${after.id})`);
  }
  const rows = await q.execute();
  const page = rows.slice(0, PAGE);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      id: r.id,
      deviceId: r.device_id,
      amount: r.amount,
      reason: r.reason,
      evidence: {
        challengeId: r.challenge_id,
        transcriptHash: r.transcript_hash,
        transcript: r.transcript as SlashTranscript,
      },
      at: new Date(r.at).toISOString(),
      appeal:
        r.appeal_status && r.appealed_at
          ? {
              status: r.appeal_status,
              at: new Date(r.appealed_at).toISOString(),
              resolvedAt: r.appeal_resolved_at && new Date(r.appeal_resolved_at).toISOString(),
            }
          : null,
      unit: "micro" as const,
    })),
    nextCursor:
      rows.length > PAGE && last
        ? Buffer.from(`${new Date(last.at).toISOString()}|${last.id}`).toString("base64url")
        : null,
  };
}

function parseCursor(cursor: string): { at: string; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  if (!at || !id || Number.isNaN(Date.parse(at)) || !/^slh_[a-z0-9]{26}$/.test(id)) {
    throw new IgnisError("bad_request", "the cursor is not one this list gave");
  }
  return { at, id };
}
