import {
  type ProofChallengeMessage,
  type ProofCommitMessage,
  type ProofRevealMessage,
  type ProofRevealRequestMessage,
  proofCommitMessage,
  proofRevealMessage,
  type Sha256,
} from "@ignis/protocol/proof";
import type { IssuedChallenge } from "./challenge.js";
import { nodeSha256 } from "./node-sha256.js";
import { cryptoRandom, type RandomSource } from "./random-source.js";
import { chooseRevealRows } from "./reveal-selection.js";
import { judgeCommit, type ProofResult, proofResult, verifyReveal } from "./verify-reveal.js";

/** The worker side as the server sees it: anything that answers a challenge and a reveal request. */
export interface ProofResponder {
  commit(challenge: ProofChallengeMessage): Promise<ProofCommitMessage>;
  reveal(request: ProofRevealRequestMessage): Promise<ProofRevealMessage>;
}

/** Time for the exchange: real for demos, virtual for tests and benchmarks. */
export interface ExchangeClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** One in-process challenge with modelled network delays. */
export interface LocalExchangeOptions {
  /** Issued with nowMs = clock.now(). */
  readonly challenge: IssuedChallenge;
  readonly responder: ProofResponder;
  readonly clock: ExchangeClock;
  /** One-way network delay of each of the four messages, in ms; 0 when absent. */
  readonly oneWayDelayMs?: () => number;
  readonly random?: RandomSource;
  readonly hash?: Sha256;
}

/**
 * Runs the whole exchange the gateway runs over a WebSocket, but in process: challenge → commit (judged on
 * arrival) → reveal request chosen after the commit → reveal → verdict. Messages are schema-checked as the
 * gateway would; a responder that throws has given no answer, which times out.
 */
export async function runLocalExchange(options: LocalExchangeOptions): Promise<ProofResult> {
  const { challenge, responder, clock } = options;
  const delay = () => clock.sleep(options.oneWayDelayMs?.() ?? 0);
  const noAnswer = () => proofResult(challenge, { outcome: "timeout", reason: "no_answer" });

  await delay();
  let commitRaw: unknown;
  try {
    commitRaw = await responder.commit(challenge.message);
  } catch {
    return noAnswer();
  }
  await delay();
  const commitReceivedAtMs = clock.now();
  const commit = proofCommitMessage.safeParse(commitRaw);
  if (!commit.success)
    return proofResult(challenge, { outcome: "fail", reason: "malformed_reveal", detail: "bad commit" });
  const judged = judgeCommit(challenge, commit.data, commitReceivedAtMs);
  if (judged) return judged;

  const request = chooseRevealRows(challenge, commit.data, options.random ?? cryptoRandom);
  const requestSentAtMs = clock.now();
  await delay();
  let revealRaw: unknown;
  try {
    revealRaw = await responder.reveal(request);
  } catch {
    return noAnswer();
  }
  await delay();
  const revealReceivedAtMs = clock.now();
  const reveal = proofRevealMessage.safeParse(revealRaw);
  if (!reveal.success)
    return proofResult(challenge, { outcome: "fail", reason: "malformed_reveal", detail: "bad reveal" });
  return verifyReveal(
    {
      challenge,
      commit: commit.data,
      commitReceivedAtMs,
      request,
      requestSentAtMs,
      reveal: reveal.data,
      revealReceivedAtMs,
    },
    options.hash ?? nodeSha256,
  );
}
