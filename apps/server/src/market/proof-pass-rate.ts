import { sql } from "kysely";
import type { Db } from "../db/database.js";
import type { ProofCounts } from "./reliability.js";

/** How far back proof results count toward reliability: recent behaviour matters, old history fades out. */
export const PROOF_WINDOW_DAYS = 30;

/**
 * Passed and decided proof-of-GPU challenges per device over the window, from the proof module's store. A
 * timeout counts as a failure; pending and cancelled challenges do not count.
 */
export function proofCountsSince(nowMs: () => number): ProofCounts {
  return async (db: Db, deviceIds: string[]) => {
    const result = new Map<string, { passed: number; total: number }>();
    if (deviceIds.length === 0) return result;
    const rows = await db
      .selectFrom("proof_challenges")
      .select([
        "device_id",
        sql<string>`count(*) filter (where outcome = 'pass')::text`.as("passed"),
        sql<string>`count(*)::text`.as("total"),
      ])
      .where("device_id", "in", deviceIds)
      .where("outcome", "in", ["pass", "fail", "timeout"])
      .where("issued_at", ">=", new Date(nowMs() - PROOF_WINDOW_DAYS * 86_400_000))
      .groupBy("device_id")
      .execute();
    for (const r of rows) result.set(r.device_id, { passed: Number(r.passed), total: Number(r.total) });
    return result;
  };
}
