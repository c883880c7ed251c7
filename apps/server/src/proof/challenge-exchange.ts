import type {
  ProofChallengeMessage,
  ProofCommitMessage,
  ProofRevealMessage,
  ProofRevealRequestMessage,
} from "@ignis/protocol/proof";
import type { IssuedChallenge } from "./challenge.js";
import type { RandomSource } from "./random-source.js";
import { chooseRevealRows } from "./reveal-selection.js";
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
}

/** One challenge in flight with one device: challenge → commit → reveal request → reveal → verdict. */
export interface ChallengeExchange {
  readonly challenge: IssuedChallenge;
  /** A commit from the device's session; one for another challenge (a late answer to an old one) is ignored. */
  commit(message: ProofCommitMessage): void;
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
}

/**
 * Sends the challenge and runs the exchange. The deadline is enforced by a timer, so a device that never
 * answers times out on time; the server's clock alone decides lateness (the worker's elapsedMs is ignored).
 */
export function startExchange(options: ExchangeOptions): ChallengeExchange {
  const { now } = options;
  // The deadline runs from the moment of sending, not from when the challenge (and its key) was made.
  const challenge: IssuedChallenge = { ...options.challenge, issuedAtMs: now() };
  let phase: "committing" | "revealing" | "ended" = "committing";
  let timer: NodeJS.Timeout | undefined;
  let commit: { message: ProofCommitMessage; atMs: number } | undefined;
  let request: { message: ProofRevealRequestMessage; atMs: number } | undefined;

  const end = (fields: Omit<ExchangeEnd, "challengeId" | "atMs">) => {
    if (phase === "ended") return;
    phase = "ended";
    clearTimeout(timer);
    options.onEnd({
      challengeId: challenge.challengeId,
      atMs: now(),
      commitAtMs: commit?.atMs,
      revealRequestedAtMs: request?.atMs,
      ...fields,
    });
  };
  const finish = (result: ProofResult, revealAtMs?: number) =>
    end({ outcome: result.outcome, reason: result.reason, result, revealAtMs });
  const wakeAt = (atMs: number, onLate: () => void) => {
    clearTimeout(timer);
    // Timers may fire a little early; re-arm until the server's clock says the time has come.
    const check = () => {
      if (now() >= atMs) onLate();
      else timer = setTimeout(check, atMs - now());
    };
    timer = setTimeout(check, Math.max(0, atMs - now()));
  };

  const exchange: ChallengeExchange = {
    challenge,
    commit(message) {
      if (phase !== "committing" || message.challengeId !== challenge.challengeId) return;
      const atMs = now();
      const judged = judgeCommit(challenge, message, atMs);
      if (judged) return finish(judged);
      commit = { message, atMs };
      const rows = chooseRevealRows(challenge, message, options.random);
      request = { message: rows, atMs: now() };
      phase = "revealing";
      options.send(rows);
      wakeAt(request.atMs + REVEAL_TIMEOUT_MS + 1, () =>
        finish(proofResult(challenge, { outcome: "timeout", reason: "reveal_late" })),
      );
    },
    reveal(message) {
      if (phase !== "revealing" || message.challengeId !== challenge.challengeId) return;
      const atMs = now();
      const result = verifyReveal({
        challenge,
        commit: commit!.message,
        commitReceivedAtMs: commit!.atMs,
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

  wakeAt(challenge.issuedAtMs + challenge.size.deadlineMs + 1, () =>
    finish(proofResult(challenge, { outcome: "timeout", reason: "commit_late" })),
  );
  options.send(challenge.message);
  return exchange;
}
