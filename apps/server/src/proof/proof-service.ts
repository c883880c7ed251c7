import { randomUUID } from "node:crypto";
import { type ChallengeTrigger, findHardwareProfile, IgnisError } from "@ignis/protocol";
import type { Bus } from "../bus/bus.js";
import { CoalescedReads } from "../db/coalesced-reads.js";
import type { Db } from "../db/database.js";
import type { Gateway, GatewaySession } from "../gateway/gateway.js";
import type { RateLimits } from "../security/rate-limits.js";
import { type ChallengeExchange, type ExchangeEnd, startExchange } from "./challenge-exchange.js";
import { GROUP_SPREAD_MS, type GroupCall, startGroupChallenges } from "./challenge-groups.js";
import { createChallengeScheduler, exponentialDelayMs } from "./challenge-scheduler.js";
import {
  cancelAbandonedChallenges,
  connectedDevicesProofState,
  insertChallenge,
  recordDecision,
  verificationHistory,
} from "./challenge-store.js";
import { cryptoRandom, type RandomSource, randomBelow } from "./random-source.js";
import { leftOutOfRound, ROUND_ABSENT } from "./round-coverage.js";
import { probeIntervalMs, watchSessionHealth } from "./session-health.js";
import { issueChallenge } from "./simulated-slack.js";
import { judgeLateCommit } from "./speed-fraud.js";
import { applyDecision, clearAfterReview } from "./verification-effects.js";
import { planAfterConnect, planAfterDecision } from "./verification-plan.js";
import { currentStreak, type ProofHistoryEntry } from "./verification-state.js";
import { createVerifierKeyring, type VerifierKeyring } from "./verifier-key.js";

/** The proof-of-GPU service of one replica: challenges the devices whose sessions it holds. */
export interface ProofService {
  /** Cancels challenges a stopped replica left pending and listens for admin requests from other replicas. */
  start(): Promise<void>;
  /** Refuses, as challengeNow would, a device that cannot be challenged now (offline, or running a job). */
  checkChallengeable(deviceId: string): Promise<void>;
  /** Challenges a device now (an admin asked); forwarded to the replica holding its session if not here. */
  challengeNow(deviceId: string): Promise<{ challengeId: string | null; delivery: "issued" | "forwarded" }>;
  /**
   * Clears a failed device after an admin review, writing in `db` when given (the route's audited write);
   * call {@link ProofService.challengeAgain} once that has committed.
   */
  release(deviceId: string, adminId: string, note: string | null, db?: Db): Promise<{ cleared: boolean }>;
  /** Challenges a cleared device again at once if it is connected (here or through its replica). */
  challengeAgain(deviceId: string): Promise<void>;
  /** Resolves when every write and decision so far has been made (tests). */
  settled(): Promise<void>;
  /** True while a challenge of the device is being issued or awaits its answers here (link probes wait for it). */
  challenging(deviceId: string): boolean;
  /** The next challenge this replica has timed for the device, if any (tests wait on it instead of sleeping). */
  nextChallenge(deviceId: string): { atMs: number; trigger: ChallengeTrigger } | undefined;
  /** Stops timers and cancels challenges in flight (they count for nothing); call before the gateway closes. */
  stop(): Promise<void>;
}

/** Collaborators and settings. */
export interface ProofServiceOptions {
  db: Db;
  gateway: Gateway;
  bus: Bus;
  rateLimits: RateLimits;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  replicaId: string;
  challengeMeanSeconds: number;
  retryDelaySeconds: number;
  now?: () => number;
  random?: RandomSource;
  keyring?: VerifierKeyring;
  /**
   * The link measurer (connectivity/link-measurer.ts). While a device's link is being measured its own challenge
   * waits, as the probe's bytes ahead of it on the session would make an honest device late; a round another
   * device called waits for no one, so the measurement is interrupted instead (a device must not dodge a round
   * by asking for a measurement when its sibling's challenge arrives).
   */
  links?: { measuring(deviceId: string): boolean; interrupt(deviceId: string): void } | undefined;
  /**
   * How long a device of a missed round may stay offline and still be required in the round that clears the miss
   * (round-coverage.ts); the mean re-check interval by default.
   */
  absenceSeconds?: number | undefined;
  /** Counts verdicts by trigger and outcome (`ignis_proof_verdicts_total`). */
  verdicts?: { inc(labels: { trigger: string; outcome: string }): void } | undefined;
  /** Called with each decided challenge once its verdict is applied (staking: slashes and appeals). */
  afterVerdict?: ((challengeId: string) => Promise<unknown>) | undefined;
}

const COMMAND_SUBJECT = "ignis.proof.challenge-now";
/** How long a challenge waits before it looks again whether its device's link measurement (a second or two) ended. */
const LINK_MEASURE_DEFER_MS = 3_000;
/**
 * How long after a round's members were due (its spread) their challenges are surely on record: a pass that clears
 * a missed round is judged for coverage only then (round-coverage.ts), so a member challenged late in the spread
 * is not taken for one left out.
 */
const ROUND_SETTLE_MS = GROUP_SPREAD_MS + 4_000;
/** Longer than any deadline (600 s) plus the reveal timeout: a pending row this old was abandoned. */
const ABANDONED_AFTER_MS = 15 * 60_000;

/** Creates the service and hooks it to the gateway's sessions and proof messages. */
export function createProofService(options: ProofServiceOptions): ProofService {
  const { db, gateway, log } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? cryptoRandom;
  const keyring = options.keyring ?? createVerifierKeyring();
  const timing = {
    meanMs: options.challengeMeanSeconds * 1000,
    retryDelayMs: options.retryDelaySeconds * 1000,
    recheckDelayMs: () => exponentialDelayMs(options.challengeMeanSeconds * 1000, random),
    // Retries spread over half the retry delay: a batch that failed in one stall comes back over a window.
    retrySpreadMs: () => randomBelow(random, Math.max(1, Math.floor(options.retryDelaySeconds * 500))),
  };
  const containment = { db, rateLimits: options.rateLimits };
  const absenceMs = (options.absenceSeconds ?? options.challengeMeanSeconds) * 1000;
  const sessions = new Map<string, GatewaySession>();
  const exchanges = new Map<string, ChallengeExchange>();
  const chains = new Map<string, Promise<unknown>>();
  let stopped = false;
  const settling = new Set<() => void>();
  /** Waits `ms` (real time), or less when the service stops. */
  const settle = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || stopped) return resolve();
      const done = () => {
        clearTimeout(timer);
        settling.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      settling.add(done);
    });
  let subscription: { unsubscribe(): void } | undefined;

  /** Runs database work of one device in order (insert before commit before verdict), never concurrently. */
  const serial = <T>(deviceId: string, work: () => Promise<T>): Promise<T | undefined> => {
    const run = (chains.get(deviceId) ?? Promise.resolve()).then(work).catch((error: unknown) => {
      log.warn({ err: error, deviceId }, "proof of GPU: device work failed");
      return undefined;
    });
    chains.set(deviceId, run);
    void run.finally(() => chains.get(deviceId) === run && chains.delete(deviceId));
    return run;
  };

  const scheduler = createChallengeScheduler({
    now,
    fire: (deviceId, trigger) => void serial(deviceId, () => issue(deviceId, trigger)),
  });
  const groups = startGroupChallenges({
    db,
    bus: options.bus,
    log,
    intervalMs: timing.meanMs,
    now,
    challenge(deviceId, round, calledHere) {
      if (stopped) return false;
      if (!sessions.has(deviceId)) {
        // Online when the round was called, connected nowhere when due: it left as its sibling's challenge came.
        // Judged once the replica that did hold it would have its challenge in the round on record (this one's
        // view of other replicas' sessions can lag): see recordAbsence.
        if (calledHere && !gateway.isConnected(deviceId))
          void settle(ROUND_SETTLE_MS).then(() => serial(deviceId, () => recordAbsence(deviceId, round)));
        return false;
      }
      // A member in a stall back-off (a retry further off than a first retry's) is left to its own retry, so
      // rounds do not hammer a host that keeps stalling. It is unverified, and that retry is a round of its own
      // when it missed one, so leaving it out lets no device be or become verified without a round. Members whose
      // first retry is near are folded into this round instead (one round, not one per missed device).
      const next = scheduler.nextAt(deviceId);
      if (next?.trigger === "retry" && next.atMs > now() + timing.retryDelayMs * 1.5) return false;
      void serial(deviceId, () => issue(deviceId, "group", round));
      return true;
    },
  });

  /**
   * The group round a challenge about to be issued opens, if any: a scheduled re-check's, or a bound retry's;
   * `wait` when a bound retry would leave out a device of the round it missed that is away for now.
   */
  async function roundFor(
    deviceId: string,
    trigger: ChallengeTrigger,
    device: { owner_id: string; session_address: string | null },
  ): Promise<GroupCall | null | "wait"> {
    const found = { ownerId: device.owner_id, address: device.session_address, except: deviceId };
    if (trigger === "schedule") return groups.claim(found, randomUUID());
    if (trigger !== "retry") return null;
    // A device that missed a round is cleared only by passing one: its retry calls a round, without a slot.
    const streak = currentStreak(await verificationHistory(db, deviceId));
    if (!streak.groupBound) return null;
    // A round without a sibling that is only away for now would clear nothing (round-coverage.ts): wait for it.
    const left = await leftOutOfRound(db, {
      deviceId,
      missedRounds: streak.missedRounds,
      round: null,
      nowMs: now(),
      absenceMs,
    });
    if (left.some((m) => m.status !== "online")) return "wait";
    return groups.retryRound(found, randomUUID());
  }

  async function issue(deviceId: string, trigger: ChallengeTrigger, round?: string): Promise<string | null> {
    const session = sessions.get(deviceId);
    if (stopped || !session) return null;
    const current = exchanges.get(deviceId);
    if (current) return current.challenge.challengeId;
    if (options.links?.measuring(deviceId)) {
      if (round === undefined) {
        scheduler.at(deviceId, now() + LINK_MEASURE_DEFER_MS, trigger);
        return null;
      }
      options.links.interrupt(deviceId);
    }
    const device = await db
      .selectFrom("devices")
      .select(["status", "profile", "gpu_count", "owner_id", "session_address"])
      .where("id", "=", deviceId)
      .executeTakeFirst();
    const profile = device && findHardwareProfile(device.profile);
    if (!device || !profile || device.status === "revoked") return null;
    if (device.status === "hired") {
      // A customer's job has the device; challenge it at another random time.
      scheduler.at(deviceId, now() + timing.recheckDelayMs(), "schedule");
      return null;
    }
    const call = await roundFor(deviceId, trigger, device).catch((error: unknown) => {
      log.warn({ err: error, deviceId }, "proof of GPU: group challenge not called");
      return null;
    });
    if (call === "wait") {
      // Looked at again a retry delay later: the sibling comes back, or its absence ends counting.
      scheduler.at(deviceId, now() + timing.retryDelayMs + timing.retrySpreadMs(), "retry");
      return null;
    }
    const roundId = call?.round ?? round ?? null;
    const challenge = issueChallenge({
      profile,
      gpuCount: device.gpu_count,
      rttMs: session.rttMs,
      keyring,
      nowMs: now(),
      random,
      provesMemory: session.supports("proof-vram"),
    });
    let ended: ExchangeEnd | undefined;
    // A slow host delays the session's answers to pings (or the server's own timers); a slow GPU does not.
    const health = watchSessionHealth({
      now,
      probe: (timeoutMs) => gateway.probe(deviceId, timeoutMs),
      everyMs: probeIntervalMs(challenge.size),
      // The round trip the deadline credits; the session's own figure may be inflated by a slow handshake.
      baselineRttMs: challenge.size.rttAllowanceMs,
    });
    const exchange = startExchange({
      challenge,
      now,
      random,
      health,
      send: (message) => void gateway.send(deviceId, message),
      onEnd(end) {
        ended = end;
        if (exchanges.get(deviceId) === exchange) exchanges.delete(deviceId);
        void serial(deviceId, () => decide(deviceId, end, trigger, roundId, challenge.issuedAtMs));
      },
    });
    if (!ended) exchanges.set(deviceId, exchange);
    const sent = exchange.challenge;
    await insertChallenge(db, {
      challenge: sent,
      deviceId,
      rttMs: session.rttMs,
      trigger,
      replica: options.replicaId,
      groupRound: roundId,
    });
    if (call) void groups.call(call);
    return sent.challengeId;
  }

  /**
   * A member of a round this replica called that no replica held when its challenge was due missed the round, as a
   * device whose session closes during its challenge does: the round's challenge is kept on record for it as a
   * `round_absent` timeout (a failure; it covers nothing, round-coverage.ts). Else a GPU posing as two devices
   * would answer one and take the other offline the moment the round began, and bring it back verified. (Its
   * status may still say `online`: a closed session is marked offline only after two heartbeat intervals, so that
   * a quick reconnect is not an outage.)
   */
  async function recordAbsence(deviceId: string, round: string): Promise<void> {
    // Judged absent when it was due; a reconnect since does not undo that (else leaving for a moment would do).
    // But this replica's view of the others' sessions can lag (a reconnect announced late, a holder forgotten
    // after one slow reply), and the replica that did hold it challenged it in the round itself: this runs once
    // that challenge would be on record, and only a member that no replica challenged in the round is absent. A
    // challenge outside the round (a reconnect's) does not count.
    if (stopped) return;
    const challenged = await db
      .selectFrom("proof_challenges")
      .select("id")
      .where("device_id", "=", deviceId)
      .where("group_round", "=", round)
      .executeTakeFirst();
    if (challenged) return;
    const device = await db
      .selectFrom("devices")
      .select(["status", "profile", "gpu_count"])
      .where("id", "=", deviceId)
      .executeTakeFirst();
    const profile = device && findHardwareProfile(device.profile);
    if (!profile || !["online", "offline", "conflict"].includes(device.status)) return;
    // One absence per time away: until it is challenged again, more of them would only add failures for it.
    const latest = await db
      .selectFrom("proof_challenges")
      .select("reason")
      .where("device_id", "=", deviceId)
      .orderBy("issued_at", "desc")
      .limit(1)
      .executeTakeFirst();
    if (latest?.reason === ROUND_ABSENT) return;
    // The challenge it would have had, kept as never answered; its seeds are never sent or stored.
    const challenge = issueChallenge({
      profile,
      gpuCount: device.gpu_count,
      rttMs: 0,
      keyring,
      nowMs: now(),
      random,
    });
    await insertChallenge(db, {
      challenge,
      deviceId,
      rttMs: 0,
      trigger: "group",
      replica: options.replicaId,
      groupRound: round,
    });
    log.info(
      { deviceId, round, challengeId: challenge.challengeId },
      "proof of GPU: a round member left before its challenge",
    );
    await decide(
      deviceId,
      { challengeId: challenge.challengeId, outcome: "timeout", reason: ROUND_ABSENT, atMs: now() },
      "group",
      round,
      challenge.issuedAtMs,
    );
  }

  async function decide(
    deviceId: string,
    ended: ExchangeEnd,
    trigger: string,
    round: string | null,
    issuedAtMs: number,
  ): Promise<void> {
    const clearsRound = ended.outcome === "pass" && round !== null;
    const before =
      ended.reason === "commit_late" || clearsRound ? await verificationHistory(db, deviceId) : [];
    // A clean late commit that repeats one is speed fraud (speed-fraud.ts); the history tells.
    const end = ended.reason === "commit_late" ? judgeLateCommit(before, ended) : ended;
    const roundIncomplete =
      clearsRound && (await leavesOut(deviceId, before, round, ended.challengeId, issuedAtMs));
    // Counted as judged: speed fraud (`speed_short`) is a fail, not the timeout the exchange ended with.
    options.verdicts?.inc({ trigger, outcome: end.outcome });
    await recordDecision(db, end.challengeId, {
      outcome: end.outcome,
      reason: end.reason,
      decidedAtMs: end.atMs,
      commitAtMs: end.commitAtMs,
      revealRequestedAtMs: end.revealRequestedAtMs,
      revealAtMs: end.revealAtMs,
      result: end.result,
      roundIncomplete,
    });
    if (end.outcome === "cancelled") return;
    const history = await verificationHistory(db, deviceId);
    const plan = planAfterDecision(history, now(), timing);
    const applied = await applyDecision(containment, deviceId, plan.decision);
    if (applied) {
      // The worker says in its log whether its proof passed (sessions without `proof-verdicts` get nothing).
      void gateway
        .send(deviceId, {
          type: "proof.verdict",
          challengeId: end.challengeId,
          outcome: end.outcome === "pass" ? "pass" : "fail",
          reason: end.outcome === "pass" ? null : (end.reason ?? end.outcome),
          verification: applied.to,
          quarantined: applied.quarantined || (plan.decision.quarantine && !applied.lifted),
        })
        .catch(() => undefined);
    }
    await options
      .afterVerdict?.(end.challengeId)
      .catch((error: unknown) =>
        log.warn(
          { err: error, deviceId, challengeId: end.challengeId },
          "proof of GPU: stake effects failed",
        ),
      );
    if (end.outcome !== "pass" || applied?.quarantined || applied?.lifted) {
      log.info(
        {
          deviceId,
          challengeId: end.challengeId,
          outcome: end.outcome,
          reason: end.reason,
          stallMs: end.stallMs,
          commitLatencyMs: end.result?.commitLatencyMs,
          ...applied,
        },
        "proof of GPU verdict",
      );
    }
    if (!stopped && sessions.has(deviceId) && !exchanges.has(deviceId)) {
      scheduler.at(deviceId, plan.nextAtMs, plan.trigger);
    }
  }

  /**
   * Whether a pass in `round` leaves out a device of the rounds the device missed (round-coverage.ts), so that it
   * clears nothing. Judged once the round's members are surely on record.
   */
  async function leavesOut(
    deviceId: string,
    history: ProofHistoryEntry[],
    round: string,
    challengeId: string,
    issuedAtMs: number,
  ): Promise<boolean> {
    const streak = currentStreak(history);
    if (!streak.groupBound) return false;
    await settle(Math.min(issuedAtMs + ROUND_SETTLE_MS - now(), ROUND_SETTLE_MS));
    const left = await leftOutOfRound(db, {
      deviceId,
      missedRounds: streak.missedRounds,
      round,
      nowMs: now(),
      absenceMs,
    });
    if (left.length > 0) {
      log.info(
        { deviceId, challengeId, round, leftOut: left.map((m) => m.deviceId) },
        "proof of GPU: a round pass that left out a device of the missed round clears nothing",
      );
    }
    return left.length > 0;
  }

  /** The devices that connected while a read was in flight are read together (a storm: two statements a batch). */
  const connectedState = new CoalescedReads(
    (deviceIds: string[]) => connectedDevicesProofState(db, deviceIds),
    (deviceId) => deviceId,
  );

  async function connected(deviceId: string): Promise<void> {
    const device = await connectedState.read(deviceId);
    if (!device || stopped || !sessions.has(deviceId) || exchanges.has(deviceId)) return;
    const plan = planAfterConnect(device.history, device.verification, now(), timing);
    scheduler.at(deviceId, plan.nextAtMs, plan.trigger);
  }

  gateway.onSessionOpened((session) => {
    if (stopped) return;
    const deviceId = session.deviceId;
    sessions.set(deviceId, session);
    // A newer session replaced one that had a challenge in flight: that challenge was walked away from.
    exchanges.get(deviceId)?.abandon("timeout", "session_closed");
    void serial(deviceId, () => connected(deviceId));
  });
  gateway.onSessionClosed((deviceId) => {
    if (stopped) return;
    sessions.delete(deviceId);
    scheduler.cancel(deviceId);
    exchanges.get(deviceId)?.abandon("timeout", "session_closed");
  });
  gateway.onHardwareChanged((deviceId) => {
    if (stopped || !sessions.has(deviceId)) return;
    // A proof made for the old claim says nothing about the new one.
    exchanges.get(deviceId)?.abandon("cancelled", "claim_changed");
    scheduler.at(deviceId, now(), "hardware");
  });
  gateway.onMessage("proof.commit", (session, message) => exchanges.get(session.deviceId)?.commit(message));
  gateway.onMessage("proof.vram-commit", (session, message) =>
    exchanges.get(session.deviceId)?.commitMemory(message),
  );
  gateway.onMessage("proof.reveal", (session, message) => exchanges.get(session.deviceId)?.reveal(message));

  async function checkChallengeable(deviceId: string): Promise<void> {
    if (!sessions.has(deviceId)) {
      if (!gateway.isConnected(deviceId))
        throw new IgnisError("device_offline", "the device is not connected");
      return;
    }
    const device = await db
      .selectFrom("devices")
      .select("status")
      .where("id", "=", deviceId)
      .executeTakeFirst();
    if (device?.status === "hired")
      throw new IgnisError("device_hired", "the device is running a customer's job");
  }

  return {
    async start() {
      const cancelled = await cancelAbandonedChallenges(db, new Date(now() - ABANDONED_AFTER_MS));
      if (cancelled > 0) log.info({ cancelled }, "proof of GPU: cancelled challenges a stopped replica left");
      subscription = options.bus.subscribe(COMMAND_SUBJECT, (payload) => {
        const { deviceId } = payload as { deviceId: string };
        if (sessions.has(deviceId)) void serial(deviceId, () => issue(deviceId, "admin"));
      });
    },
    checkChallengeable,
    async challengeNow(deviceId) {
      await checkChallengeable(deviceId);
      if (sessions.has(deviceId)) {
        scheduler.cancel(deviceId);
        const challengeId = await serial(deviceId, () => issue(deviceId, "admin"));
        if (!challengeId) throw new IgnisError("device_offline", "the device could not be challenged now");
        return { challengeId, delivery: "issued" };
      }
      await options.bus.publish(COMMAND_SUBJECT, { deviceId });
      return { challengeId: null, delivery: "forwarded" };
    },
    async release(deviceId, adminId, note, within = db) {
      const { cleared } = await clearAfterReview({ ...containment, db: within }, { deviceId, adminId, note });
      return { cleared };
    },
    async challengeAgain(deviceId) {
      if (sessions.has(deviceId)) scheduler.at(deviceId, now(), "admin");
      else if (gateway.isConnected(deviceId)) {
        await options.bus.publish(COMMAND_SUBJECT, { deviceId }).catch(() => undefined);
      }
    },
    async settled() {
      while (chains.size > 0) await Promise.all([...chains.values()]);
    },
    nextChallenge: (deviceId) => scheduler.nextAt(deviceId),
    challenging: (deviceId) => exchanges.has(deviceId) || chains.has(deviceId),
    async stop() {
      if (stopped) return;
      for (const exchange of [...exchanges.values()]) exchange.abandon("cancelled", "server_stopped");
      stopped = true;
      for (const done of [...settling]) done();
      scheduler.stop();
      groups.stop();
      subscription?.unsubscribe();
      while (chains.size > 0) await Promise.all([...chains.values()]);
    },
  };
}
