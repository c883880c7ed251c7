import type { VerificationEvent } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import type { TableProbe } from "./optional-tables.js";

/** Events shown on the device page. */
const HISTORY_LIMIT = 50;

/** The proof module's challenges table (migration 0006), as the explorer reads it. */
type ChallengesTable = {
  proof_challenges: { device_id: string; outcome: string | null; decided_at: Date | null };
};

/** A device's decided proof-of-GPU checks, newest first: outcome and time only, never seeds or timings. */
export async function verificationHistoryOf(
  db: Db,
  probe: TableProbe,
  deviceId: string,
): Promise<VerificationEvent[]> {
  if (!(await probe.has("proof_challenges"))) return [];
  const rows = await db
    .withTables<ChallengesTable>()
    .selectFrom("proof_challenges")
    .select(["outcome", "decided_at"])
    .where("device_id", "=", deviceId)
    .where("decided_at", "is not", null)
    .orderBy("decided_at", "desc")
    .limit(HISTORY_LIMIT)
    .execute();
  return rows.map((r) => ({
    at: new Date(r.decided_at!).toISOString(),
    result: r.outcome === "passed" || r.outcome === "pass" ? "pass" : "fail",
  }));
}
