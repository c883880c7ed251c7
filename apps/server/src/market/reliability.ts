import type { Db } from "../db/database.js";
import { SLOTS_PER_EPOCH } from "../uptime/minute-slots.js";

/** The parts of a device's reliability, each a share in [0, 1]. */
export interface Reliability {
  /** Up-minutes over the last 7 days (or since enrollment, if newer) divided by the minutes possible. */
  uptime7d: number;
  /** Proof-of-GPU challenges passed, Laplace-smoothed: (passed + 1) / (total + 2). */
  proofPassRate: number;
  /** Rental jobs the device saw through (exited or stopped at the end), smoothed like proofs. */
  jobSuccessRate: number;
  /** 0.5 × uptime7d + 0.3 × proofPassRate + 0.2 × jobSuccessRate. */
  score: number;
}

/** Weights of the reliability score; docs/clusters.md shows the same formula. */
export const RELIABILITY_WEIGHTS = Object.freeze({ uptime7d: 0.5, proofPassRate: 0.3, jobSuccessRate: 0.2 });

const WEEK_SECONDS = 7 * 86_400;

/** Passed and total proof challenges per device; supplied by the proof module. */
export type ProofCounts = (
  db: Db,
  deviceIds: string[],
) => Promise<Map<string, { passed: number; total: number }>>;

/** Laplace-smoothed success share: a device with no history scores 0.5, not 0 or 1. */
export function smoothedRate(good: number, total: number): number {
  return (good + 1) / (total + 2);
}

/** The weighted score of the three parts. */
export function reliabilityScore(parts: Omit<Reliability, "score">): number {
  const w = RELIABILITY_WEIGHTS;
  return (
    w.uptime7d * parts.uptime7d +
    w.proofPassRate * parts.proofPassRate +
    w.jobSuccessRate * parts.jobSuccessRate
  );
}

/**
 * Reliability of each device, from stored uptime (minute slots of the last 7 days of epochs), proof results and
 * the outcomes of its past rental jobs. A job the device lost (dropped mid-rental) or could not run counts
 * against it; a job that exited (with any code: that is the customer's program) or ran to the end counts for it.
 */
export async function reliabilityOf(
  db: Db,
  deviceIds: string[],
  options: { nowMs: number; epochSeconds: number; proofCounts?: ProofCounts | undefined },
): Promise<Map<string, Reliability>> {
  const result = new Map<string, Reliability>();
  if (deviceIds.length === 0) return result;
  const { nowMs, epochSeconds } = options;
  const slots = SLOTS_PER_EPOCH;
  const currentEpoch = Math.floor(nowMs / 1000 / epochSeconds);
  const windowEpochs = Math.max(1, Math.ceil(WEEK_SECONDS / epochSeconds));
  const fromEpoch = currentEpoch - windowEpochs + 1;

  const [devices, uptime, jobs, proofs] = await Promise.all([
    db.selectFrom("devices").select(["id", "created_at"]).where("id", "in", deviceIds).execute(),
    db
      .selectFrom("uptime")
      .select(["device_id", (eb) => eb.fn.sum<string>("up_minutes").as("up")])
      .where("device_id", "in", deviceIds)
      .where("epoch", ">=", String(fromEpoch))
      .groupBy("device_id")
      .execute(),
    db
      .selectFrom("cluster_jobs")
      .select(["device_id", "state", (eb) => eb.fn.countAll<string>().as("n")])
      .where("device_id", "in", deviceIds)
      .where("active", "=", false)
      .groupBy(["device_id", "state"])
      .execute(),
    options.proofCounts ? options.proofCounts(db, deviceIds) : Promise.resolve(new Map()),
  ]);
  const upBy = new Map(uptime.map((u) => [u.device_id, Number(u.up)]));
  const jobsBy = new Map<string, { good: number; total: number }>();
  for (const j of jobs) {
    const entry = jobsBy.get(j.device_id) ?? { good: 0, total: 0 };
    const n = Number(j.n);
    entry.total += n;
    if (j.state === "exited" || j.state === "stopped") entry.good += n;
    jobsBy.set(j.device_id, entry);
  }
  for (const d of devices) {
    const createdEpoch = Math.floor(new Date(d.created_at).getTime() / 1000 / epochSeconds);
    const epochs = Math.min(windowEpochs, Math.max(1, currentEpoch - createdEpoch + 1));
    const uptime7d = Math.min(1, (upBy.get(d.id) ?? 0) / (epochs * slots));
    const p = proofs.get(d.id) ?? { passed: 0, total: 0 };
    const j = jobsBy.get(d.id) ?? { good: 0, total: 0 };
    const parts = {
      uptime7d,
      proofPassRate: smoothedRate(p.passed, p.total),
      jobSuccessRate: smoothedRate(j.good, j.total),
    };
    result.set(d.id, { ...parts, score: reliabilityScore(parts) });
  }
  return result;
}
