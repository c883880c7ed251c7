import { createHash } from "node:crypto";
import { compareWorkerVersions, IgnisError, type WorkerRolloutView } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import { findRelease } from "./worker-releases.js";

/**
 * Staged rollouts of a worker release, and the devices each one offered it to. A rollout is `running` or
 * `paused` (by an admin, or automatically when too many offered devices failed to come back on the release);
 * one rollout is active at a time. An offered device is `offered`, then `updated` when it opens a session as the
 * release, or `failed` when it comes back on an older release (it rolled back) or not at all within the bound.
 */

/** A rollout with its counts. */
export interface Rollout {
  id: string;
  version: string;
  percent: number;
  failureThresholdBps: number;
  comebackSeconds: number;
  status: "running" | "paused" | "done";
  pausedReason: string | null;
  counts: { offered: number; updated: number; failed: number };
  createdAt: Date;
  updatedAt: Date;
}

/** Defaults of a new rollout: pause past 10% failures, 10 minutes to come back. */
export const ROLLOUT_DEFAULTS = { failureThresholdBps: 1000, comebackSeconds: 600 } as const;

/** The admin view of a rollout. */
export function rolloutView(r: Rollout): WorkerRolloutView {
  return {
    id: r.id,
    version: r.version,
    percent: r.percent,
    failureThresholdBps: r.failureThresholdBps,
    comebackSeconds: r.comebackSeconds,
    status: r.status,
    pausedReason: r.pausedReason,
    counts: r.counts,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/**
 * Whether a device is in the first `percent` of a rollout: a stable hash of rollout and device, so widening a
 * rollout keeps every device it already chose.
 */
export function inRolloutShare(rolloutId: string, deviceId: string, percent: number): boolean {
  const bucket = createHash("sha256").update(`${rolloutId}:${deviceId}`).digest().readUInt32BE(0) % 100;
  return bucket < percent;
}

/** Starts a rollout of a stored release; `conflict` while another one is running or paused. */
export async function createRollout(
  db: Db,
  input: {
    version: string;
    percent: number;
    failureThresholdBps?: number | undefined;
    comebackSeconds?: number | undefined;
    createdBy: string;
    at: Date;
  },
): Promise<Rollout> {
  if (!(await findRelease(db, input.version))) {
    throw new IgnisError("not_found", `no release ${input.version}; upload it first`);
  }
  const active = await db
    .selectFrom("worker_rollouts")
    .select("id")
    .where("status", "in", ["running", "paused"])
    .executeTakeFirst();
  if (active)
    throw new IgnisError("conflict", `rollout ${active.id} is still active; pause is not enough, finish it`);
  const id = newId("rol");
  await db
    .insertInto("worker_rollouts")
    .values({
      id,
      version: input.version,
      percent: input.percent,
      failure_threshold_bps: input.failureThresholdBps ?? ROLLOUT_DEFAULTS.failureThresholdBps,
      comeback_seconds: input.comebackSeconds ?? ROLLOUT_DEFAULTS.comebackSeconds,
      status: "running",
      created_by: input.createdBy,
      updated_at: input.at,
    })
    .execute();
  return getRollout(db, id);
}

/**
 * Pauses, resumes, widens or finishes a rollout. A rollout only widens (the devices it updated stay updated);
 * a finished one changes no more.
 */
export async function updateRollout(
  db: Db,
  id: string,
  change: { status?: "running" | "paused" | "done" | undefined; percent?: number | undefined },
  at: Date,
): Promise<Rollout> {
  const current = await getRollout(db, id);
  if (current.status === "done") throw new IgnisError("conflict", "the rollout is finished");
  if (change.percent !== undefined && change.percent < current.percent) {
    throw new IgnisError("validation_failed", "a rollout only widens", {
      details: { errors: [{ path: "body.percent", message: `must be at least ${current.percent}` }] },
    });
  }
  await db
    .updateTable("worker_rollouts")
    .set({
      ...(change.status ? { status: change.status } : {}),
      ...(change.status === "running" ? { paused_reason: null } : {}),
      ...(change.status === "paused" ? { paused_reason: "paused by an admin" } : {}),
      ...(change.percent !== undefined ? { percent: change.percent } : {}),
      updated_at: at,
    })
    .where("id", "=", id)
    .execute();
  return getRollout(db, id);
}

/** A rollout with its counts; `not_found` when there is none. */
export async function getRollout(db: Db, id: string): Promise<Rollout> {
  const [rollout] = await selectRollouts(db, id);
  if (!rollout) throw new IgnisError("not_found", "no such rollout");
  return rollout;
}

/** Every rollout, newest first, with its counts. */
export function listRollouts(db: Db): Promise<Rollout[]> {
  return selectRollouts(db);
}

async function selectRollouts(db: Db, id?: string): Promise<Rollout[]> {
  let query = db.selectFrom("worker_rollouts").selectAll().orderBy("created_at", "desc");
  if (id !== undefined) query = query.where("id", "=", id);
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const counts = await db
    .selectFrom("worker_rollout_devices")
    .select(["rollout_id", "state", (eb) => eb.fn.countAll<string>().as("n")])
    .where(
      "rollout_id",
      "in",
      rows.map((r) => r.id),
    )
    .groupBy(["rollout_id", "state"])
    .execute();
  return rows.map((r) => {
    const of = (state: string) =>
      Number(counts.find((c) => c.rollout_id === r.id && c.state === state)?.n ?? 0);
    const updated = of("updated");
    const failed = of("failed");
    return {
      id: r.id,
      version: r.version,
      percent: r.percent,
      failureThresholdBps: r.failure_threshold_bps,
      comebackSeconds: r.comeback_seconds,
      status: r.status,
      pausedReason: r.paused_reason,
      counts: { offered: of("offered") + updated + failed, updated, failed },
      createdAt: new Date(r.created_at),
      updatedAt: new Date(r.updated_at),
    };
  });
}

/** Records that a rollout offered its release to a device; false when it already had (another replica did). */
export async function recordOffer(
  db: Db,
  offer: { rolloutId: string; deviceId: string; fromVersion: string; at: Date },
): Promise<boolean> {
  const inserted = await db
    .insertInto("worker_rollout_devices")
    .values({
      rollout_id: offer.rolloutId,
      device_id: offer.deviceId,
      from_version: offer.fromVersion,
      state: "offered",
      offered_at: offer.at,
    })
    .onConflict((oc) => oc.columns(["rollout_id", "device_id"]).doNothing())
    .returning("device_id")
    .executeTakeFirst();
  return inserted !== undefined;
}

/** The offers still open (`offered`) for each of these devices, with their rollout's release; absent: none. */
export async function openOffersOf(
  db: Db,
  deviceIds: string[],
): Promise<Map<string, Array<{ rollout_id: string; version: string }>>> {
  const rows = await db
    .selectFrom("worker_rollout_devices as d")
    .innerJoin("worker_rollouts as r", "r.id", "d.rollout_id")
    .select(["d.device_id", "d.rollout_id", "r.version"])
    .where("d.device_id", "in", deviceIds)
    .where("d.state", "=", "offered")
    .execute();
  const offers = new Map<string, Array<{ rollout_id: string; version: string }>>();
  for (const r of rows) {
    const list = offers.get(r.device_id) ?? [];
    list.push({ rollout_id: r.rollout_id, version: r.version });
    offers.set(r.device_id, list);
  }
  return offers;
}

/**
 * A device opened a session as `version`: its open offers settle — `updated` on the release, `failed` on an
 * older one (the update was rolled back). Returns the rollouts whose counts changed. `open` is openOffersOf's
 * answer for the device when the caller read it already (the driver reads the offers of a storm together).
 */
export async function settleComeback(
  db: Db,
  deviceId: string,
  version: string,
  at: Date,
  open?: Array<{ rollout_id: string; version: string }>,
): Promise<string[]> {
  open ??= (await openOffersOf(db, [deviceId])).get(deviceId) ?? [];
  const changed: string[] = [];
  for (const offer of open) {
    const order = compareWorkerVersions(version, offer.version);
    const state = order >= 0 ? "updated" : "failed";
    await db
      .updateTable("worker_rollout_devices")
      .set({ state, settled_at: at })
      .where("rollout_id", "=", offer.rollout_id)
      .where("device_id", "=", deviceId)
      .where("state", "=", "offered")
      .execute();
    changed.push(offer.rollout_id);
  }
  return changed;
}

/** Offers older than their rollout's bound count as failed: the device did not come back on the release. */
export async function expireOffers(db: Db, at: Date): Promise<string[]> {
  const open = await db
    .selectFrom("worker_rollout_devices as d")
    .innerJoin("worker_rollouts as r", "r.id", "d.rollout_id")
    .select(["d.rollout_id", "d.device_id", "d.offered_at", "r.comeback_seconds"])
    .where("d.state", "=", "offered")
    .execute();
  const changed = new Set<string>();
  for (const offer of open) {
    if (new Date(offer.offered_at).getTime() + offer.comeback_seconds * 1000 > at.getTime()) continue;
    await db
      .updateTable("worker_rollout_devices")
      .set({ state: "failed", settled_at: at })
      .where("rollout_id", "=", offer.rollout_id)
      .where("device_id", "=", offer.device_id)
      .where("state", "=", "offered")
      .execute();
    changed.add(offer.rollout_id);
  }
  return [...changed];
}

/**
 * Pauses a running rollout whose failed share of offered devices exceeds its threshold; true when it did. Each
 * stage is judged on its own: only devices offered since the rollout last started, resumed or widened count, so
 * an admin who resumes after a pause is not paused again by the failures they already looked at.
 */
export async function pauseOnFailures(db: Db, id: string, at: Date): Promise<boolean> {
  const r = await db.selectFrom("worker_rollouts").selectAll().where("id", "=", id).executeTakeFirst();
  if (r?.status !== "running") return false;
  const stage = await db
    .selectFrom("worker_rollout_devices")
    .select(["state", (eb) => eb.fn.countAll<string>().as("n")])
    .where("rollout_id", "=", id)
    .where("offered_at", ">=", new Date(r.updated_at))
    .groupBy("state")
    .execute();
  const offered = stage.reduce((sum, row) => sum + Number(row.n), 0);
  const failed = Number(stage.find((row) => row.state === "failed")?.n ?? 0);
  if (failed === 0 || failed * 10_000 <= r.failure_threshold_bps * offered) return false;
  const reason = `${failed} of ${offered} offered devices failed to come back on ${r.version} (threshold ${r.failure_threshold_bps / 100}%)`;
  await db
    .updateTable("worker_rollouts")
    .set({ status: "paused", paused_reason: reason, updated_at: at })
    .where("id", "=", id)
    .where("status", "=", "running")
    .execute();
  return true;
}
