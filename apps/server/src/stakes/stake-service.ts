import type { Db } from "../db/database.js";
import { type AppealResolution, resolveAppeals } from "./appeal.js";
import { type MadeSlash, slashForFraud } from "./slash.js";
import type { StakeSettings } from "./stake-settings.js";
import { releaseDueStakes } from "./stakes.js";

/** Staking on one replica: its settings and clock, the release of unbonded stakes, and the proof verdict hook. */
export interface StakeService {
  readonly settings: StakeSettings;
  /** The clock every stake write reads (tests inject one). */
  now(): Date;
  /** Slashes for a fraud-class failure and decides pending appeals; called with each decided challenge. */
  afterVerdict(challengeId: string): Promise<{ slash: MadeSlash | null; appeals: AppealResolution[] }>;
  /** Pays back the unbonding stakes whose time has come. */
  releaseDue(): Promise<number>;
  /** Releases due stakes now and then on a timer. */
  start(): void;
  stop(): void;
}

/** Creates the stake service. */
export function createStakeService(options: {
  db: Db;
  settings: StakeSettings;
  now?: () => number;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
}): StakeService {
  const { db, settings, log } = options;
  const clock = options.now ?? Date.now;
  const now = () => new Date(clock());
  let timer: NodeJS.Timeout | undefined;
  const releaseDue = async () => {
    const released = await releaseDueStakes(db, now());
    if (released > 0) log.info({ released }, "stakes released after unbonding");
    return released;
  };
  return {
    settings,
    now,
    async afterVerdict(challengeId) {
      const slash = await slashForFraud(db, settings, { challengeId, at: now() });
      if (slash) log.info({ ...slash, amount: slash.amount.toString(), legs: undefined }, "stake slashed");
      const appeals = await resolveAppeals(db, { challengeId, at: now() });
      for (const a of appeals) log.info({ ...a, amount: a.amount.toString() }, "slash appeal decided");
      return { slash, appeals };
    },
    releaseDue,
    start() {
      // Unbonding is measured in hours or days; a minute's lateness in paying back is immaterial.
      const everyMs = Math.max(1000, Math.min(60_000, settings.unbondSeconds * 1000));
      timer = setInterval(() => {
        releaseDue().catch((error: unknown) => log.warn({ err: error }, "stake release failed"));
      }, everyMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
