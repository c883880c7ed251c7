import {
  type ChallengeTrigger,
  type ChallengeView,
  findHardwareProfile,
  type Verification,
} from "@ignis/protocol";
import { sizeVramCheck } from "@ignis/protocol/proof";
import { type ExpressionBuilder, sql } from "kysely";
import type { Db } from "../db/database.js";
import type { Database } from "../db/schema.js";
import type { IssuedChallenge } from "./challenge.js";
import type { DecidedCheck } from "./verdict-explanation.js";
import type { ProofHistoryEntry } from "./verification-state.js";
import type { ProofResult } from "./verify-reveal.js";

/** How many decided challenges the life cycle looks back over (the failure streak and its doubling). */
const HISTORY_DEPTH = 32;

/** Stores a challenge just sent: its sizes and timings, never its seeds. */
export async function insertChallenge(
  db: Db,
  input: {
    challenge: IssuedChallenge;
    deviceId: string;
    rttMs: number;
    trigger: ChallengeTrigger;
    replica: string;
    /** The group round it belongs to, if any (challenge-groups.ts). */
    groupRound?: string | null;
  },
): Promise<void> {
  const { challenge } = input;
  await db
    .insertInto("proof_challenges")
    .values({
      id: challenge.challengeId,
      device_id: input.deviceId,
      profile: challenge.profileId,
      gpu_count: challenge.gpuCount,
      n: challenge.size.n,
      inner_dim: challenge.size.inner,
      batch: challenge.size.batch,
      reveal_rows: challenge.size.revealRows,
      expected_ms: challenge.size.expectedMs,
      deadline_ms: challenge.size.deadlineMs,
      rtt_ms: Math.round(input.rttMs),
      trigger: input.trigger,
      replica: input.replica,
      issued_at: new Date(challenge.issuedAtMs),
      memory_phase: challenge.vram !== null,
      group_round: input.groupRound ?? null,
    })
    .execute();
}

/** Stores the verdict. `reason` may name an end the verifier does not know (session_closed, server_stopped). */
export async function recordDecision(
  db: Db,
  id: string,
  decision: {
    outcome: "pass" | "fail" | "timeout" | "cancelled";
    reason: string | null;
    decidedAtMs: number;
    commitAtMs?: number | undefined;
    revealRequestedAtMs?: number | undefined;
    revealAtMs?: number | undefined;
    result?: ProofResult | undefined;
    /** A pass in a round that left out a device the device's missed round had (round-coverage.ts). */
    roundIncomplete?: boolean | undefined;
  },
): Promise<void> {
  const r = decision.result;
  await db
    .updateTable("proof_challenges")
    .set({
      outcome: decision.outcome,
      reason: decision.reason,
      decided_at: new Date(decision.decidedAtMs),
      ...(decision.commitAtMs !== undefined ? { commit_at: new Date(decision.commitAtMs) } : {}),
      ...(decision.revealRequestedAtMs !== undefined
        ? { reveal_requested_at: new Date(decision.revealRequestedAtMs) }
        : {}),
      ...(decision.revealAtMs !== undefined ? { reveal_at: new Date(decision.revealAtMs) } : {}),
      ...(decision.roundIncomplete ? { round_incomplete: true } : {}),
      ...(r
        ? {
            detail: r.detail,
            commit_latency_ms: r.commitLatencyMs === null ? null : Math.round(r.commitLatencyMs),
            rows_checked: r.rowsChecked,
            verify_cpu_ms: r.verifyCpuMs,
          }
        : {}),
    })
    .where("id", "=", id)
    .where("outcome", "=", "pending")
    .execute();
}

/**
 * Gives up challenges left pending by a replica that stopped or died before deciding them; they count for
 * nothing (the device did nothing wrong that we know of). Returns how many.
 */
export async function cancelAbandonedChallenges(db: Db, issuedBefore: Date): Promise<number> {
  const result = await db
    .updateTable("proof_challenges")
    .set({ outcome: "cancelled", reason: "server_stopped", decided_at: new Date() })
    .where("outcome", "=", "pending")
    .where("issued_at", "<", issuedBefore)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The columns of a decided challenge that the life cycle reads (verification-state.ts), in both reads below. */
const HISTORY_COLUMNS = [
  "c.outcome",
  "c.decided_at",
  "c.reason",
  "c.commit_latency_ms",
  "c.deadline_ms",
  "c.group_round",
  "c.round_incomplete",
] as const;

/**
 * Keeps the challenges (`c`) decided after their device's last admin review: a review clears the failure streak
 * before it (insertReview). Shared by the life cycle's reads per device and per batch.
 */
function sinceLastReview({
  exists,
  not,
  selectFrom,
}: ExpressionBuilder<Database & { c: Database["proof_challenges"] }, "c">) {
  return not(
    exists(
      selectFrom("proof_reviews as r")
        .select("r.device_id")
        .whereRef("r.device_id", "=", "c.device_id")
        .whereRef("r.reviewed_at", ">=", "c.decided_at"),
    ),
  );
}

/** One decided challenge as the life cycle reads it. */
function historyEntryOf(r: {
  outcome: string;
  decided_at: Date | null;
  reason: string | null;
  commit_latency_ms: number | null;
  deadline_ms: number;
  group_round: string | null;
  round_incomplete: boolean;
}): ProofHistoryEntry {
  return {
    outcome: r.outcome as ProofHistoryEntry["outcome"],
    atMs: new Date(r.decided_at!).getTime(),
    reason: r.reason,
    commitLatencyMs: r.commit_latency_ms,
    deadlineMs: r.deadline_ms,
    grouped: r.group_round !== null && !r.round_incomplete,
    round: r.group_round,
  };
}

/** The device's decided challenges since its last admin review, oldest first: the life cycle's input. */
export async function verificationHistory(db: Db, deviceId: string): Promise<ProofHistoryEntry[]> {
  const rows = await db
    .selectFrom("proof_challenges as c")
    .select(HISTORY_COLUMNS)
    .where("c.device_id", "=", deviceId)
    .where("c.outcome", "in", ["pass", "fail", "timeout"])
    .where("c.decided_at", "is not", null)
    .where(sinceLastReview)
    .orderBy("c.decided_at", "desc")
    .limit(HISTORY_DEPTH)
    .execute();
  return rows.reverse().map(historyEntryOf);
}

/**
 * What planning a connected device's next challenge reads, for a batch of devices in two statements: each
 * device's verification state and its decided challenges since its last admin review (verificationHistory's
 * answer, per device). Devices that do not exist are absent.
 */
export async function connectedDevicesProofState(
  db: Db,
  deviceIds: string[],
): Promise<Map<string, { verification: Verification; history: ProofHistoryEntry[] }>> {
  const devices = await db
    .selectFrom("devices")
    .select(["id", "verification"])
    .where("id", "in", deviceIds)
    .execute();
  const rows = await db
    .selectFrom((eb) =>
      eb
        .selectFrom("proof_challenges as c")
        .select([
          "c.device_id",
          ...HISTORY_COLUMNS,
          sql<number>`row_number() over (partition by c.device_id order by c.decided_at desc)`.as("depth"),
        ])
        .where("c.device_id", "in", deviceIds)
        .where("c.outcome", "in", ["pass", "fail", "timeout"])
        .where("c.decided_at", "is not", null)
        .where(sinceLastReview)
        .as("h"),
    )
    .selectAll()
    .where("h.depth", "<=", HISTORY_DEPTH)
    .orderBy("h.device_id")
    .orderBy("h.depth", "desc")
    .execute();
  const state = new Map<string, { verification: Verification; history: ProofHistoryEntry[] }>();
  for (const d of devices) state.set(d.id, { verification: d.verification, history: [] });
  for (const r of rows) {
    state.get(r.device_id)?.history.push(historyEntryOf(r));
  }
  return state;
}

/** The admin detail of a challenge whose memory roots came late (challenge-exchange.ts). */
export const MEMORY_LATE_DETAIL = "memory roots late";

/** Checks shown to an owner on their device's record. */
const OWNER_HISTORY_LIMIT = 20;

/**
 * The device's latest decided checks for its owner, newest first, with the figures an explanation is built from
 * (verdict-explanation.ts); never the admin `detail` column, seeds or replicas.
 */
export async function decidedChecks(db: Db, deviceId: string): Promise<DecidedCheck[]> {
  const rows = await db
    .selectFrom("proof_challenges")
    .select([
      "decided_at",
      "outcome",
      "reason",
      "profile",
      "gpu_count",
      "expected_ms",
      "deadline_ms",
      "rtt_ms",
      "commit_latency_ms",
      "rows_checked",
      "reveal_rows",
      "detail",
    ])
    .where("device_id", "=", deviceId)
    .where("outcome", "in", ["pass", "fail", "timeout"])
    .where("decided_at", "is not", null)
    .orderBy("decided_at", "desc")
    .orderBy("id", "desc")
    .limit(OWNER_HISTORY_LIMIT)
    .execute();
  return rows.map((r) => ({
    decidedAt: new Date(r.decided_at!),
    outcome: r.outcome as DecidedCheck["outcome"],
    reason: r.reason,
    profile: r.profile,
    gpuCount: r.gpu_count,
    expectedMs: Number(r.expected_ms),
    deadlineMs: r.deadline_ms,
    rttMs: r.rtt_ms,
    commitLatencyMs: r.commit_latency_ms,
    rowsChecked: r.rows_checked,
    revealRows: r.reveal_rows,
    vramBytes: r.reason === "vram_short" ? vramBytesOf(r.profile, r.gpu_count) : null,
    // Only this one fact is read from the admin detail; the detail itself never reaches the owner.
    memoryLate: r.reason === "commit_late" && r.detail === MEMORY_LATE_DETAIL,
  }));
}

/** The buffer a memory check of this claim asks for (sizing is a pure function of the claim). */
function vramBytesOf(profileId: string, gpuCount: number): number | null {
  const profile = findHardwareProfile(profileId);
  return profile ? (sizeVramCheck(profile, gpuCount)?.bytes ?? null) : null;
}

/** Records an admin's review: earlier failures stop counting towards the device's streak. */
export async function insertReview(
  db: Db,
  input: { deviceId: string; adminId: string; note: string | null },
) {
  await db
    .insertInto("proof_reviews")
    .values({ device_id: input.deviceId, reviewed_by: input.adminId, note: input.note })
    .execute();
}

/** A device's challenges for admins, newest first; `cursor` is the id of the last one already seen. */
export async function listChallenges(
  db: Db,
  deviceId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<ChallengeView[]> {
  let query = db.selectFrom("proof_challenges").selectAll().where("device_id", "=", deviceId);
  if (page.cursor) {
    const after = await db
      .selectFrom("proof_challenges")
      .select(["issued_at", "id"])
      .where("id", "=", page.cursor)
      .where("device_id", "=", deviceId)
      .executeTakeFirst();
    if (!after) return [];
    query = query.where((eb) =>
      eb.or([
        eb("issued_at", "<", after.issued_at),
        eb.and([eb("issued_at", "=", after.issued_at), eb("id", "<", after.id)]),
      ]),
    );
  }
  const rows = await query.orderBy("issued_at", "desc").orderBy("id", "desc").limit(page.limit).execute();
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return rows.map((r) => ({
    id: r.id,
    deviceId: r.device_id,
    profile: r.profile,
    gpuCount: r.gpu_count,
    n: r.n,
    inner: r.inner_dim,
    batch: r.batch,
    revealRows: r.reveal_rows,
    expectedMs: Number(r.expected_ms),
    deadlineMs: r.deadline_ms,
    rttMs: r.rtt_ms,
    trigger: r.trigger,
    issuedAt: new Date(r.issued_at).toISOString(),
    commitAt: iso(r.commit_at),
    revealRequestedAt: iso(r.reveal_requested_at),
    revealAt: iso(r.reveal_at),
    decidedAt: iso(r.decided_at),
    commitLatencyMs: r.commit_latency_ms,
    outcome: r.outcome,
    reason: r.reason,
    detail: r.detail,
    rowsChecked: r.rows_checked,
    verifyCpuMs: r.verify_cpu_ms === null ? null : Number(r.verify_cpu_ms),
  }));
}
