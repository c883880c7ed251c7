import type {
  ChallengeSize,
  ProofChallengeMessage,
  ProofCommitMessage,
  ProofRevealMessage,
  ProofRevealRequestMessage,
  ProofVramCommitMessage,
} from "@ignis/protocol/proof";
import type { IssuedChallenge } from "./challenge.js";
import { MEMORY_LATE_DETAIL } from "./challenge-store.js";
import type { RandomSource } from "./random-source.js";
import { chooseRevealRows } from "./reveal-selection.js";
import { type SessionHealth, stallExcuses } from "./session-health.js";
import {
  judgeCommit,
  type ProofResult,
  proofResult,
  REVEAL_TIMEOUT_MS,
  verifyReveal,
} from "./verify-reveal.js";

/** How an exchange ended; `cancelled` ones count for nothing (the server gave them up, not the device). */
export interface ExchangeEnd {
  readonly challengeId: string;
  readonly outcome: "pass" | "fail" | "timeout" | "cancelled";
  readonly reason: string | null;
  readonly atMs: number;
  readonly result?: ProofResult;
  readonly commitAtMs?: number;
  readonly revealRequestedAtMs?: number;
  readonly revealAtMs?: number;
  /** The longest stall of the session or the server seen while the commit was awaited (session-health.ts). */
  readonly stallMs?: number;
}

/** One challenge in flight with one device: challenge → commit → reveal request → reveal → verdict. */
export interface ChallengeExchange {
  readonly challenge: IssuedChallenge;
  /** A commit from the device's session; one for another challenge (a late answer to an old one) is ignored. */
  commit(message: ProofCommitMessage): void;
  /** The memory phase's roots from the device's session (challenges with a memory phase only). */
  commitMemory(message: ProofVramCommitMessage): void;
  /** A reveal from the device's session; ignored unless it answers this exchange's reveal request. */
  reveal(message: ProofRevealMessage): void;
  /** Ends the exchange from outside: the session closed (timeout) or the server gave it up (cancelled). */
  abandon(outcome: "timeout" | "cancelled", reason: string): void;
}

/** What an exchange needs from the service around it. */
export interface ExchangeOptions {
  readonly challenge: IssuedChallenge;
  readonly now: () => number;
  readonly random: RandomSource;
  /** Sends over the device's live session (a session that ends meanwhile abandons the exchange). */
  readonly send: (message: ProofChallengeMessage | ProofRevealRequestMessage) => void;
  /** Called exactly once. */
  readonly onEnd: (end: ExchangeEnd) => void;
  /**
   * Watches the session from the sending of the challenge (watchSessionHealth); the exchange stops it once the
   * commit is in. Without one, no stall is ever assumed.
   */
  readonly health?: SessionHealth;
}

/**
 * How long past the deadline a late commit is still awaited, to be measured: one more deadline (at most 30 s),
 * plus the longest stall seen.
 */
export function lateWindowMs(challenge: Pick<IssuedChallenge, "size">): number {
  return Math.min(challenge.size.deadlineMs, REVEAL_TIMEOUT_MS);
}

/**
 * Sends the challenge and runs the exchange. The deadline is enforced by a timer, so a device that never
 * answers times out (after the late window); the server's clock alone decides lateness (the worker's
 * elapsedMs is ignored). A late commit is excused (`host_stall`) when `health` saw a stall that explains it.
 */
export function startExchange(options: ExchangeOptions): ChallengeExchange {
  const { now } = options;
  // The deadline runs from the moment of sending, not from when the challenge (and its key) was made.
  const challenge: IssuedChallenge = { ...options.challenge, issuedAtMs: now() };
  let phase: "committing" | "late" | "revealing" | "ended" = "committing";
  let timer: NodeJS.Timeout | undefined;
  let commit: { message: ProofCommitMessage; atMs: number } | undefined;
  let memory: ProofVramCommitMessage | undefined;
  let request: { message: ProofRevealRequestMessage; atMs: number } | undefined;
  let stallMs: number | undefined;

  const end = (fields: Omit<ExchangeEnd, "challengeId" | "atMs">) => {
    if (phase === "ended") return;
    phase = "ended";
    clearTimeout(timer);
    options.health?.stop();
    options.onEnd({
      challengeId: challenge.challengeId,
      atMs: now(),
      commitAtMs: commit?.atMs,
      revealRequestedAtMs: request?.atMs,
      ...(stallMs === undefined ? {} : { stallMs }),
      ...fields,
    });
  };
  const finish = (result: ProofResult, revealAtMs?: number) =>
    end({ outcome: result.outcome, reason: result.reason, result, revealAtMs });
  /** A late commit while the session or the server stalled long enough to explain it is a slow host's. */
  const finishLate = (
    result: ProofResult,
    commitAtMs?: number,
    excusable = true,
    timing: Pick<ChallengeSize, "deadlineMs" | "expectedMs"> = challenge.size,
  ) => {
    stallMs = options.health?.stallMs();
    // How late the commit itself was, when it came (late memory roots and silence leave only the half slack).
    const lateByMs =
      commitAtMs !== undefined && timing === challenge.size
        ? commitAtMs - challenge.issuedAtMs - timing.deadlineMs
        : undefined;
    const excused = excusable && stallMs !== undefined && stallExcuses(timing, stallMs, lateByMs);
    end({
      outcome: result.outcome,
      reason: excused ? "host_stall" : result.reason,
      result: {
        ...result,
        reason: excused ? "host_stall" : result.reason,
        detail: result.detail ?? (stallMs === undefined ? null : `stall ${stallMs} ms`),
      },
      ...(commitAtMs === undefined ? {} : { commitAtMs }),
    });
  };
  const wakeAt = (atMs: number, onLate: () => void) => {
    clearTimeout(timer);
    // Timers may fire a little early; re-arm until the server's clock says the time has come.
    const check = () => {
      if (now() >= atMs) onLate();
      else timer = setTimeout(check, atMs - now());
    };
    timer = setTimeout(check, Math.max(0, atMs - now()));
  };

  // Rows and walk steps are named only once every commitment the challenge asks for has arrived: a prover
  // that knew the walk steps before committing to its walk would walk only those.
  const requestReveal = () => {
    if (!commit || (challenge.vram && !memory)) return;
    // Stalls are watched until every commitment is in: the memory roots may be excused too.
    options.health?.stop();
    const rows = chooseRevealRows(challenge, commit.message, options.random);
    request = { message: rows, atMs: now() };
    phase = "revealing";
    options.send(rows);
    wakeAt(request.atMs + REVEAL_TIMEOUT_MS + 1, () =>
      finish(proofResult(challenge, { outcome: "timeout", reason: "reveal_late" })),
    );
  };

  const exchange: ChallengeExchange = {
    challenge,
    commit(message) {
      if (message.challengeId !== challenge.challengeId || commit) return;
      if (phase !== "committing" && phase !== "late") return;
      const atMs = now();
      const judged = judgeCommit(challenge, message, atMs);
      if (judged?.reason === "commit_late") return finishLate(judged, atMs);
      if (judged) return finish(judged);
      commit = { message, atMs };
      const vram = challenge.vram;
      if (vram && !memory) {
        // The memory roots follow within the phase's own deadline (the rows keep theirs, so no slow device can
        // spend the memory phase's time on them); late roots mean the buffer was not held, or not in time,
        // unless the host stalled meanwhile by at least half the phase's slack (then `host_stall`, as for rows).
        phase = "committing";
        wakeAt(challenge.issuedAtMs + vram.deadlineMs + 1, () =>
          finishLate(
            proofResult(challenge, {
              outcome: "timeout",
              reason: "commit_late",
              detail: MEMORY_LATE_DETAIL,
              commitLatencyMs: atMs - challenge.issuedAtMs,
            }),
            atMs,
            true,
            { deadlineMs: vram.deadlineMs, expectedMs: challenge.size.expectedMs + vram.expectedMs },
          ),
        );
      }
      requestReveal();
    },
    commitMemory(message) {
      const vram = challenge.vram;
      if (!vram || memory || message.challengeId !== challenge.challengeId) return;
      if (phase !== "committing" && phase !== "late") return;
      if (now() - challenge.issuedAtMs > vram.deadlineMs) return;
      memory = message;
      requestReveal();
    },
    reveal(message) {
      if (phase !== "revealing" || message.challengeId !== challenge.challengeId) return;
      const atMs = now();
      const result = verifyReveal({
        challenge,
        commit: commit!.message,
        commitReceivedAtMs: commit!.atMs,
        ...(memory ? { memoryCommit: memory } : {}),
        request: request!.message,
        requestSentAtMs: request!.atMs,
        reveal: message,
        revealReceivedAtMs: atMs,
      });
      finish(result, atMs);
    },
    abandon(outcome, reason) {
      end({ outcome, reason });
    },
  };

  // Past the deadline the exchange waits one more deadline (at most 30 s) for the late commit: only a commit
  // that arrives, late, shows a slow GPU (speed-fraud.ts); one that never comes may be a broken device.
  // The late window grows by the stall seen so far (up to 30 s past the deadline): a stalled honest device
  // gets to commit, late and excused, while a device that stays silent a whole window beyond any stall is
  // not excused.
  const deadlineAtMs = challenge.issuedAtMs + challenge.size.deadlineMs;
  const lastChanceAtMs = deadlineAtMs + REVEAL_TIMEOUT_MS;
  const waitLate = () => {
    const until = Math.min(
      lastChanceAtMs,
      deadlineAtMs + lateWindowMs(challenge) + (options.health?.stallMs() ?? 0),
    );
    if (now() < until) return wakeAt(until + 1, waitLate);
    const silent = proofResult(challenge, { outcome: "timeout", reason: "commit_late" });
    finishLate(silent, undefined, now() >= lastChanceAtMs);
  };
  wakeAt(deadlineAtMs + 1, () => {
    phase = "late";
    waitLate();
  });
  options.send(challenge.message);
  return exchange;
}
