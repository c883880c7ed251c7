import { compareWorkerVersions } from "@ignis/protocol";
import type { Db } from "../db/database.js";

/** The command an owner runs to update an outdated worker, shown in the API, the web app and the worker log. */
export const WORKER_UPDATE_COMMAND = "ignis worker update";

/** The operator's rule for old workers: the minimum release and how long an older one keeps earning. */
export interface WorkerVersionPolicy {
  minVersion: string | undefined;
  graceSeconds: number;
}

/** An outdated worker: since when it was seen below the minimum, and until when it still earns. */
export interface OutdatedWorker {
  since: Date;
  earningUntil: Date;
}

/** True when a worker announcing `version` (null: a v1 worker, which announces none) is below the minimum. */
export function isOutdatedWorker(version: string | null, policy: WorkerVersionPolicy): boolean {
  if (!policy.minVersion) return false;
  return version === null || compareWorkerVersions(version, policy.minVersion) < 0;
}

/**
 * The outdated state of a worker announcing `version`, given since when the device was already seen outdated
 * (`outdatedSince`, null when it was not): null when it is current, else since when and until when it earns.
 */
export function outdatedWorkerState(
  version: string | null,
  policy: WorkerVersionPolicy,
  outdatedSince: Date | null,
  now: Date,
): OutdatedWorker | null {
  if (!isOutdatedWorker(version, policy)) return null;
  const since = outdatedSince ?? now;
  return { since, earningUntil: new Date(since.getTime() + policy.graceSeconds * 1000) };
}

/**
 * Records the release a device's new session announced. An outdated worker keeps the time it was first seen
 * outdated (reconnecting does not restart its grace period) and earns until that time plus the grace; a worker
 * at or above the minimum clears both. Returns the outdated state, or null.
 */
export async function recordWorkerVersion(
  db: Db,
  deviceId: string,
  version: string | null,
  policy: WorkerVersionPolicy,
  now: Date,
): Promise<OutdatedWorker | null> {
  if (!isOutdatedWorker(version, policy)) {
    await db
      .updateTable("devices")
      .set({ worker_version: version, outdated_since: null, outdated_earning_until: null })
      .where("id", "=", deviceId)
      .execute();
    return null;
  }
  const row = await db
    .selectFrom("devices")
    .select("outdated_since")
    .where("id", "=", deviceId)
    .executeTakeFirst();
  const since = row?.outdated_since ?? now;
  const earningUntil = new Date(since.getTime() + policy.graceSeconds * 1000);
  await db
    .updateTable("devices")
    .set({ worker_version: version, outdated_since: since, outdated_earning_until: earningUntil })
    .where("id", "=", deviceId)
    .execute();
  return { since, earningUntil };
}
