import type { Eligibility } from "@ignis/protocol";
import { type RawBuilder, sql } from "kysely";
import type { Db } from "../db/database.js";
import { requiredStake, type StakeSettings } from "./stake-settings.js";

/** Why a device may not be hired or may not earn; stable codes clients switch on. */
export type EligibilityReason =
  | "not_verified"
  | "quarantined"
  | "revoked"
  | "conflict"
  | "stake_missing"
  | "pending_period"
  | "proof_stale";

/** What each reason stops: being hired, earning uptime rewards, or both. */
const BLOCKS: Record<EligibilityReason, { hire: boolean; earn: boolean }> = {
  not_verified: { hire: true, earn: true },
  quarantined: { hire: true, earn: true },
  revoked: { hire: true, earn: true },
  conflict: { hire: true, earn: true },
  stake_missing: { hire: true, earn: true },
  pending_period: { hire: true, earn: true },
  // No pass recent enough (IGNIS_PROOF_MAX_AGE_SECONDS), e.g. after a long rental: hireable, earning again at the
  // next pass.
  proof_stale: { hire: false, earn: true },
};

/** The eligibility that a list of reasons amounts to. */
export function eligibilityOf(reasons: readonly EligibilityReason[]): Eligibility {
  return {
    hireable: !reasons.some((r) => BLOCKS[r].hire),
    earning: !reasons.some((r) => BLOCKS[r].earn),
    reasons: [...reasons],
  };
}

/**
 * Micro-units the device's `bonded` stakes hold now (unbonding and released stakes do not count); with
 * `bondedSince`, only those bonded at or before that instant.
 */
export async function bondedStakeOf(db: Db, deviceId: string, bondedSince?: Date): Promise<bigint> {
  let q = db
    .selectFrom("stakes")
    .select(sql<string>`coalesce(sum(bonded), 0)::text`.as("bonded"))
    .where("device_id", "=", deviceId)
    .where("status", "=", "bonded");
  if (bondedSince) q = q.where("created_at", "<=", bondedSince);
  const row = await q.executeTakeFirstOrThrow();
  return BigInt(row.bonded);
}

/**
 * Whether a device may be hired and may earn now, and why not: its verification, its status, (with staking on)
 * whether its bonded stake covers IGNIS_STAKE_PER_GPU per GPU, (with a pending period) whether it has been
 * verified, and covered by stakes bonded, for at least IGNIS_STAKE_PENDING_SECONDS, and (with
 * `proofMaxAgeSeconds`) whether the pass that verified it is recent enough to earn.
 */
export async function deviceEligibility(
  db: Db,
  settings: StakeSettings & { proofMaxAgeSeconds?: number | undefined },
  device: {
    id: string;
    status: string;
    verification: string;
    gpuCount: number;
    verifiedAt: Date | null;
    provenAt?: Date | null;
  },
  nowMs: number = Date.now(),
): Promise<Eligibility> {
  const reasons: EligibilityReason[] = [];
  if (device.verification !== "verified") reasons.push("not_verified");
  else if (
    settings.proofMaxAgeSeconds !== undefined &&
    (!device.provenAt || device.provenAt.getTime() < nowMs - settings.proofMaxAgeSeconds * 1000)
  ) {
    reasons.push("proof_stale");
  }
  if (device.status === "quarantined") reasons.push("quarantined");
  if (device.status === "revoked") reasons.push("revoked");
  if (device.status === "conflict") reasons.push("conflict");
  if (
    settings.perGpu > 0n &&
    (await bondedStakeOf(db, device.id)) < requiredStake(settings, device.gpuCount)
  ) {
    reasons.push("stake_missing");
  }
  if (
    settings.pendingSeconds > 0 &&
    !reasons.includes("not_verified") &&
    !reasons.includes("stake_missing")
  ) {
    const cutoff = new Date(nowMs - settings.pendingSeconds * 1000);
    const verifiedLongEnough = device.verifiedAt !== null && device.verifiedAt <= cutoff;
    const stakedLongEnough =
      settings.perGpu === 0n ||
      (await bondedStakeOf(db, device.id, cutoff)) >= requiredStake(settings, device.gpuCount);
    if (!verifiedLongEnough || !stakedLongEnough) reasons.push("pending_period");
  }
  return eligibilityOf(reasons);
}

/**
 * SQL that is true when the device in the outer query (its id and GPU count columns) has enough stake bonded;
 * always true with staking off. With `bondedSince`, only stakes bonded at or before that instant count (an
 * epoch's start: a device earns for an epoch only when it was staked through all of it).
 */
export function stakeCovers(
  settings: Pick<StakeSettings, "perGpu">,
  columns: { id: string; gpuCount: string },
  bondedSince?: Date,
): RawBuilder<boolean> {
  if (settings.perGpu === 0n) return sql<boolean>`true`;
  const since = bondedSince ? sql`and s.created_at <= ${bondedSince}` : sql``;
  return sql<boolean>`(select coalesce(sum(s.bonded), 0) from stakes s
    where s.device_id = ${sql.ref(columns.id)} and s.status = 'bonded' ${since})
    >= ${settings.perGpu.toString()}::bigint * greatest(1, ${sql.ref(columns.gpuCount)})`;
}

/**
 * SQL that is true when the device in the outer query has served its pending period by `atMs`: verified since
 * at least IGNIS_STAKE_PENDING_SECONDS before it and, with staking on, covered by stakes bonded that long
 * before it. Always true without a pending period.
 */
export function pendingOver(
  settings: Pick<StakeSettings, "perGpu" | "pendingSeconds">,
  columns: { id: string; gpuCount: string; verifiedAt: string },
  atMs: number,
): RawBuilder<boolean> {
  if (settings.pendingSeconds <= 0) return sql<boolean>`true`;
  const cutoff = new Date(atMs - settings.pendingSeconds * 1000);
  return sql<boolean>`(${sql.ref(columns.verifiedAt)} <= ${cutoff} and ${stakeCovers(settings, columns, cutoff)})`;
}
