import { hardwareProfiles } from "@ignis/protocol";
import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import type { IntervalJob, JobLog } from "../jobs/interval-job.js";
import type { ClosedEpoch } from "./epoch-close.js";
import { type EpochCloserOptions, runEpochCloseTick, startEpochCloser } from "./epoch-closer.js";
import type { EpochTiming } from "./epoch-schedule.js";
import { ensureDefaultSeason } from "./season-lifecycle.js";

/** What the HTTP layer and the composition root need from the rewards domain. */
export interface RewardService {
  timing: EpochTiming;
  /** Hardware profile ids a season must give a weight to. */
  knownProfiles: readonly string[];
  now(): number;
  /** Starts the scheduled epoch close (after the server listens). */
  start(): void;
  /** Closes the epochs due now, if no other replica is closing them (tests, operators). */
  closeDueNow(): Promise<ClosedEpoch[]>;
  /** Stops the scheduler and waits for a close in flight. */
  stop(): Promise<void>;
}

/** The default weight of every hardware profile: its `rewardWeight`. */
export function defaultProfileWeights(): Record<string, number> {
  return Object.fromEntries(hardwareProfiles.map((p) => [p.id, p.rewardWeight]));
}

/** Sets up the rewards domain: the default season on first start, and the epoch closer (not yet started). */
export async function createRewardService(options: {
  db: Db;
  config: Config;
  log: JobLog & { info(obj: object, msg: string): void };
  now?: () => number;
  observeCloseSeconds?: (seconds: number) => void;
  /** Reward roots on chain: the contract roots are queued for, and who to tell when some are. */
  chain?: { contract: string; onRootsQueued: () => void } | undefined;
}): Promise<RewardService> {
  const now = options.now ?? Date.now;
  const timing: EpochTiming = {
    epochSeconds: options.config.epochSeconds,
    finalizationSeconds: options.config.epochFinalizationSeconds,
    stakePerGpu: options.config.stakes.perGpu,
    stakePendingSeconds: options.config.stakes.pendingSeconds,
    proofMaxAgeSeconds: options.config.proofMaxAgeSeconds,
  };
  const created = await ensureDefaultSeason(options.db, {
    epochSeconds: timing.epochSeconds,
    nowMs: now(),
    weights: defaultProfileWeights(),
  });
  if (created)
    options.log.info({ season: created.name, startsAt: created.startsAt }, "default reward season created");
  let closer: IntervalJob | undefined;
  const closerOptions: EpochCloserOptions = {
    db: options.db,
    log: options.log,
    replicaId: options.config.replicaId,
    now,
    observeCloseSeconds: options.observeCloseSeconds,
    publishRootsTo: options.chain?.contract,
    onRootsQueued: options.chain?.onRootsQueued,
    ...timing,
  };
  return {
    timing,
    knownProfiles: hardwareProfiles.map((p) => p.id),
    now,
    start() {
      closer ??= startEpochCloser(closerOptions);
    },
    closeDueNow: () => runEpochCloseTick(closerOptions),
    async stop() {
      await closer?.stop();
    },
  };
}
