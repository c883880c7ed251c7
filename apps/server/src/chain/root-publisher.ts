import type { Address, Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import type { Db } from "../db/database.js";
import { type IntervalJob, type JobLog, startIntervalJob } from "../jobs/interval-job.js";
import { runExclusive } from "../jobs/run-exclusive.js";
import { type ChainConnection, connectChain, describeChainError, publishRoot } from "./chain-client.js";
import { dueRoots, markRootConflict, markRootPublished, markRootRetry } from "./root-outbox.js";

/** The lease name every replica's root publisher competes for (one sender keeps the account's nonces in order). */
export const ROOT_PUBLISH_JOB = "chain.root-publish";

/** Longest wait between two attempts at one root, as a multiple of the first wait (and never over an hour). */
const MAX_BACKOFF_FACTOR = 60;

/** Options of startRootPublisher. */
export interface RootPublisherOptions {
  db: Db;
  rpcUrl: string;
  contract: Address;
  account: PrivateKeyAccount;
  /** First retry delay; each further failure doubles it, up to 60 times the first (at most an hour). */
  retrySeconds: number;
  replicaId: string;
  log: JobLog & { info(obj: object, msg: string): void };
  now?: () => number;
}

/** The running publisher: `kick` asks for a tick now without waiting for it (an epoch just closed). */
export interface RootPublisher {
  kick(): void;
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

/** The wait after the n-th failed attempt (n from 1): retrySeconds × 2^(n-1), capped at 60 × retrySeconds and an hour. */
export function backoffMs(retrySeconds: number, failures: number): number {
  const first = retrySeconds * 1000;
  return Math.min(3_600_000, first * MAX_BACKOFF_FACTOR, first * 2 ** Math.min(30, failures - 1));
}

/**
 * Drains the root outbox: each tick takes the due roots, oldest first, and publishes them on the RewardRoots
 * contract. A failure is recorded on its row with the next attempt time (exponential backoff); a node that
 * cannot be reached ends the tick, so the remaining roots wait for it without each burning an attempt. The epoch
 * close never waits for any of this: it only wrote the outbox row.
 */
export function startRootPublisher(options: RootPublisherOptions): RootPublisher {
  const now = options.now ?? Date.now;
  let connection: ChainConnection | undefined;
  const tick = async () => {
    await runExclusive(options.db, ROOT_PUBLISH_JOB, () => publishDue(), { holder: options.replicaId });
  };
  const publishDue = async () => {
    const due = await dueRoots(options.db, new Date(now()), 20);
    for (const root of due) {
      try {
        connection ??= await connectChain(options.rpcUrl, options.account);
        const outcome = await publishRoot(connection, options.contract, root.epoch, root.root as Hex);
        if (outcome.kind === "conflict") {
          const error = `the contract already holds root ${outcome.onChain} for epoch ${root.epoch}`;
          await markRootConflict(options.db, root, error);
          options.log.error(
            { epoch: root.epoch, contract: root.contract, root: root.root, error },
            "root conflict",
          );
          continue;
        }
        await markRootPublished(options.db, root, { ...outcome, contract: root.contract }, new Date(now()));
        options.log.info(
          {
            epoch: root.epoch,
            contract: root.contract,
            txHash: outcome.txHash,
            blockNumber: outcome.blockNumber,
          },
          "reward root published on chain",
        );
      } catch (error) {
        const failures = root.attempts + 1;
        const wait = backoffMs(options.retrySeconds, failures);
        const reason = describeChainError(error, options.rpcUrl);
        await markRootRetry(options.db, root, { error: reason, nextAttemptAt: new Date(now() + wait) });
        options.log.warn(
          { epoch: root.epoch, attempts: failures, retryInMs: wait, error: reason },
          "reward root not published yet; will retry",
        );
        // The next roots would fail the same way: they wait for the next tick.
        connection = undefined;
        return;
      }
    }
  };
  const job: IntervalJob = startIntervalJob({
    name: ROOT_PUBLISH_JOB,
    intervalMs: Math.max(100, Math.min(15_000, options.retrySeconds * 1000)),
    firstDelayMs: 0,
    log: options.log,
    tick,
  });
  return {
    kick() {
      void job.runNow();
    },
    runNow: () => job.runNow(),
    stop: () => job.stop(),
  };
}
