import { compareWorkerVersions, releasePackagePath } from "@ignis/protocol";
import { CoalescedReads } from "../db/coalesced-reads.js";
import type { Db } from "../db/database.js";
import type { Gateway, GatewaySession } from "../gateway/gateway.js";
import {
  expireOffers,
  inRolloutShare,
  openOffersOf,
  pauseOnFailures,
  recordOffer,
  settleComeback,
} from "./rollouts.js";
import { findRelease } from "./worker-releases.js";

/**
 * Drives staged rollouts on one replica: offers the release (`worker.update-available`) to the live sessions a
 * running rollout chose that update by themselves (feature `auto-update`, which v1 workers never negotiate),
 * settles offers as devices come back, and pauses a rollout whose failures pass its threshold. Every replica runs
 * one; an offer is recorded once (the table's key), so a device is offered a release once per rollout.
 */
export function createRolloutDriver(options: {
  db: Db;
  gateway: Gateway;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** How often offers expire and live sessions are offered a rollout that was created, resumed or widened. */
  tickSeconds: number;
  now?: () => number;
}) {
  const { db, gateway, log } = options;
  const now = options.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const checkFailures = async (rolloutIds: Iterable<string>) => {
    for (const id of new Set(rolloutIds)) {
      if (await pauseOnFailures(db, id, new Date(now())))
        log.warn({ rolloutId: id }, "rollout paused: too many failures");
    }
  };

  /** The running rollouts, read once for all the sessions opening at the same moment (a storm: one read a batch). */
  const runningRollouts = new CoalescedReads(
    async () =>
      new Map([
        [
          "running",
          await db.selectFrom("worker_rollouts").selectAll().where("status", "=", "running").execute(),
        ],
      ]),
    () => "running",
  );
  /** The offers still open for devices coming back, read together for the sessions opening at the same moment. */
  const openOffers = new CoalescedReads(
    (deviceIds: string[]) => openOffersOf(db, deviceIds),
    (deviceId) => deviceId,
  );

  const offer = async (all: readonly GatewaySession[]) => {
    // Only a worker that chose automatic updates is offered one; a session opening without it reads nothing.
    const sessions = all.filter((s) => s.workerVersion && s.supports("auto-update"));
    if (sessions.length === 0) return;
    const rollouts = (await runningRollouts.read(undefined)) ?? [];
    for (const rollout of rollouts) {
      const release = await findRelease(db, rollout.version);
      if (!release) continue;
      for (const session of sessions) {
        const from = session.workerVersion!;
        if (compareWorkerVersions(from, rollout.version) >= 0) continue;
        if (!inRolloutShare(rollout.id, session.deviceId, rollout.percent)) continue;
        const at = new Date(now());
        if (
          !(await recordOffer(db, {
            rolloutId: rollout.id,
            deviceId: session.deviceId,
            fromVersion: from,
            at,
          }))
        ) {
          continue;
        }
        await gateway.send(session.deviceId, {
          type: "worker.update-available",
          rolloutId: rollout.id,
          version: release.version,
          url: releasePackagePath(release.version),
          sha256: release.sha256,
          signature: release.signature,
          size: release.size,
        });
      }
    }
  };

  const opened = async (session: GatewaySession) => {
    if (session.workerVersion) {
      const offers = (await openOffers.read(session.deviceId)) ?? [];
      if (offers.length > 0) {
        await checkFailures(
          await settleComeback(db, session.deviceId, session.workerVersion, new Date(now()), offers),
        );
      }
    }
    await offer([session]);
  };

  /** One pass: expire offers past their bound, pause on failures, offer to live sessions. */
  const tick = async () => {
    await checkFailures(await expireOffers(db, new Date(now())));
    const active = await db
      .selectFrom("worker_rollouts")
      .select("id")
      .where("status", "=", "running")
      .execute();
    await checkFailures(active.map((r) => r.id));
    await offer(gateway.localSessions());
  };

  gateway.onSessionOpened((session) => {
    opened(session).catch((error: unknown) => log.warn({ err: error }, "rollout offer failed"));
  });

  return {
    tick,
    start() {
      timer = setInterval(() => {
        if (running) return;
        running = tick()
          .catch((error: unknown) => log.warn({ err: error }, "rollout tick failed"))
          .finally(() => (running = undefined));
      }, options.tickSeconds * 1000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** The rollout driver of a replica. */
export type RolloutDriver = ReturnType<typeof createRolloutDriver>;
