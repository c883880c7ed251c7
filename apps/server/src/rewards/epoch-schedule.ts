import type { Db } from "../db/database.js";
import { epochAt, epochEndMs, epochStartMs } from "./epoch-clock.js";
import { type ClosedEpoch, type CloseEpochOptions, closeEpoch } from "./epoch-close.js";
import { windowSettledAtMs, windowsOverlapping } from "./maintenance-windows.js";
import { lastClosedEpoch, nextSeasonFrom, seasonForEpoch } from "./seasons.js";

/** Timing of epoch closes. */
export interface EpochTiming {
  epochSeconds: number;
  /** Wait after an epoch's end so buffered up-minutes are written first. */
  finalizationSeconds: number;
  /** Micro-units of stake per GPU a device must keep bonded through an epoch to earn in it (0 or absent: off). */
  stakePerGpu?: bigint | undefined;
  stakePendingSeconds?: number | undefined;
  /** Uptime rewards need a pass this recent (IGNIS_PROOF_MAX_AGE_SECONDS; absent: no such rule). */
  proofMaxAgeSeconds?: number | undefined;
}

/**
 * When an epoch may close: after its end plus the finalization delay, and after every maintenance window that
 * overlaps it has ended and its grace has run out (a device may still come back and earn the window's minutes).
 */
export async function epochClosableAtMs(db: Db, epoch: number, timing: EpochTiming): Promise<number> {
  const start = epochStartMs(epoch, timing.epochSeconds);
  const end = epochEndMs(epoch, timing.epochSeconds);
  let settled = end;
  for (const window of await windowsOverlapping(db, start, end)) {
    settled = Math.max(settled, windowSettledAtMs(window));
  }
  return settled + timing.finalizationSeconds * 1000;
}

/** The next epoch to close: after the last closed one, or the first epoch of the first season; skips gaps. */
async function nextEpochToClose(db: Db, epochSeconds: number): Promise<number | undefined> {
  const last = await lastClosedEpoch(db);
  const candidate = last === undefined ? 0 : last + 1;
  if (await seasonForEpoch(db, candidate, epochSeconds)) return candidate;
  const next = await nextSeasonFrom(db, new Date(epochStartMs(candidate, epochSeconds)));
  if (!next) return undefined;
  // The first epoch whose start lies in the season: the season may start inside an epoch.
  const first = epochAt(next.startsAt.getTime() - 1, epochSeconds) + 1;
  return Math.max(candidate, first);
}

/**
 * Closes every epoch that is due at `nowMs`, in order, at most `limit` per call (a server back from a long
 * outage catches up over several ticks). Stops at the first epoch still waiting for its finalization or a
 * window's grace, so epochs always close in order.
 */
export async function closeDueEpochs(
  db: Db,
  timing: EpochTiming,
  nowMs: number,
  options: {
    limit?: number;
    afterStage?: CloseEpochOptions["afterStage"];
    publishTo?: string | undefined;
  } = {},
): Promise<ClosedEpoch[]> {
  const closed: ClosedEpoch[] = [];
  const limit = options.limit ?? 24;
  while (closed.length < limit) {
    const epoch = await nextEpochToClose(db, timing.epochSeconds);
    if (epoch === undefined || (await epochClosableAtMs(db, epoch, timing)) > nowMs) break;
    const result = await closeEpoch(db, {
      epoch,
      epochSeconds: timing.epochSeconds,
      ...(options.afterStage ? { afterStage: options.afterStage } : {}),
      publishTo: options.publishTo,
      stakePerGpu: timing.stakePerGpu,
      stakePendingSeconds: timing.stakePendingSeconds,
      proofMaxAgeSeconds: timing.proofMaxAgeSeconds,
    });
    if (!result) break;
    closed.push(result);
  }
  return closed;
}
