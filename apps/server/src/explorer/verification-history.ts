import type { VerificationEvent } from "@ignis/protocol";
import type { Db } from "../db/database.js";

/** Events shown on the device page. */
const HISTORY_LIMIT = 50;

/**
 * A device's decided proof-of-GPU checks, newest first: the outcome and when it was decided, nothing else (no
 * seeds, timings, reasons or replica names). A missed deadline counts as a failure; cancelled and pending
 * challenges are not shown.
 */
export async function verificationHistoryOf(db: Db, deviceId: string): Promise<VerificationEvent[]> {
  const rows = await db
    .selectFrom("proof_challenges")
    .select(["outcome", "decided_at"])
    .where("device_id", "=", deviceId)
    .where("outcome", "in", ["pass", "fail", "timeout"])
    .where("decided_at", "is not", null)
    .orderBy("issued_at", "desc")
    .limit(HISTORY_LIMIT)
    .execute();
  return rows.map((r) => ({
    at: new Date(r.decided_at!).toISOString(),
    result: r.outcome === "pass" ? "pass" : "fail",
  }));
}
