import {
  aRowDot,
  bytesEqual,
  fromHex,
  leafHash,
  type ProofCommitMessage,
  type ProofRevealMessage,
  type ProofRevealRequestMessage,
  type ProofVramCommitMessage,
  rootFromProof,
  rowDot,
  rowWithinBounds,
  type Sha256,
} from "@ignis/protocol/proof";
import type { IssuedChallenge } from "./challenge.js";
import { nodeSha256 } from "./node-sha256.js";
import { verifyMemory } from "./verify-memory.js";

/** How one challenge ended. */
export type ProofOutcome = "pass" | "fail" | "timeout";

/** Why a challenge did not pass. */
export type ProofFailureReason =
  | "wrong_challenge"
  | "no_answer"
  | "commit_late"
  /** Late, but the session or the server was stalled long enough to explain it: a slow host, not a slow GPU. */
  | "host_stall"
  | "reveal_late"
  | "malformed_reveal"
  | "bad_proof"
  | "wrong_row"
  /** The prover could not hold or read a buffer as large as the VRAM it claims. */
  | "vram_short"
  /** Repeated late commits from a device whose session stayed healthy: slower than the GPU it claims. */
  | "speed_short"
  /** Online when its group round was called, connected nowhere when its challenge was due (round-coverage.ts). */
  | "round_absent";

/** The failures only a lie explains (never an outage or a slow network): these, and only these, slash a stake. */
export const fraudReasons: ReadonlySet<ProofFailureReason> = new Set([
  "bad_proof",
  "wrong_row",
  "vram_short",
  "speed_short",
]);

/** The verdict on one challenge, with what the timing looked like. */
export interface ProofResult {
  readonly challengeId: string;
  readonly profileId: string;
  readonly outcome: ProofOutcome;
  readonly reason: ProofFailureReason | null;
  /** Which row or field failed, for logs; never shown to the worker. */
  readonly detail: string | null;
  /** Server-measured time from sending the challenge to receiving the commit. */
  readonly commitLatencyMs: number | null;
  readonly deadlineMs: number;
  readonly expectedMs: number;
  /** The worker's own (untrusted) compute time. */
  readonly reportedElapsedMs: number | null;
  readonly rowsChecked: number;
  /** CPU time this verification took on the server. */
  readonly verifyCpuMs: number;
}

/** Longest wait for the reveal after the request: the rows are already committed, so this only bounds state. */
export const REVEAL_TIMEOUT_MS = 30_000;

/** Builds a result for `challenge`; callers fill in the outcome-specific fields. */
export function proofResult(
  challenge: IssuedChallenge,
  fields: Partial<ProofResult> & Pick<ProofResult, "outcome">,
): ProofResult {
  return {
    challengeId: challenge.challengeId,
    profileId: challenge.profileId,
    reason: null,
    detail: null,
    commitLatencyMs: null,
    deadlineMs: challenge.size.deadlineMs,
    expectedMs: challenge.size.expectedMs,
    reportedElapsedMs: null,
    rowsChecked: 0,
    verifyCpuMs: 0,
    ...fields,
  };
}

/**
 * Judges a commit on arrival: a commit for another challenge fails, a late one times out; null means the
 * exchange goes on to the reveal.
 */
export function judgeCommit(
  challenge: IssuedChallenge,
  commit: ProofCommitMessage,
  receivedAtMs: number,
): ProofResult | null {
  const commitLatencyMs = receivedAtMs - challenge.issuedAtMs;
  const reportedElapsedMs = commit.elapsedMs;
  if (commit.challengeId !== challenge.challengeId) {
    return proofResult(challenge, {
      outcome: "fail",
      reason: "wrong_challenge",
      commitLatencyMs,
      reportedElapsedMs,
    });
  }
  if (commitLatencyMs > challenge.size.deadlineMs) {
    return proofResult(challenge, {
      outcome: "timeout",
      reason: "commit_late",
      commitLatencyMs,
      reportedElapsedMs,
    });
  }
  return null;
}

/** Everything the server has once the reveal arrived. */
export interface RevealToVerify {
  readonly challenge: IssuedChallenge;
  readonly commit: ProofCommitMessage;
  readonly commitReceivedAtMs: number;
  readonly request: ProofRevealRequestMessage;
  readonly requestSentAtMs: number;
  readonly reveal: ProofRevealMessage;
  readonly revealReceivedAtMs: number;
  /** The memory phase's roots, for a challenge with a memory phase. */
  readonly memoryCommit?: ProofVramCommitMessage;
}

/**
 * Verifies a reveal: timing, then that exactly the requested rows came back within bounds, then each row's
 * Merkle proof against the committed root, then Freivalds' check a·(B·r) = c·r with the key's secret r.
 * Cost O(k·(inner + n + log leaves)) for k rows, B·r being precomputed in the key.
 */
export function verifyReveal(input: RevealToVerify, hash: Sha256 = nodeSha256): ProofResult {
  const started = performance.now();
  const { challenge, commit, request, reveal } = input;
  const early = judgeCommit(challenge, commit, input.commitReceivedAtMs);
  if (early) return early;
  const base = {
    commitLatencyMs: input.commitReceivedAtMs - challenge.issuedAtMs,
    reportedElapsedMs: commit.elapsedMs,
  };
  const done = (fields: Partial<ProofResult> & Pick<ProofResult, "outcome">) =>
    proofResult(challenge, { ...base, ...fields, verifyCpuMs: performance.now() - started });

  if (input.revealReceivedAtMs - input.requestSentAtMs > REVEAL_TIMEOUT_MS) {
    return done({ outcome: "timeout", reason: "reveal_late" });
  }
  if (reveal.challengeId !== challenge.challengeId || request.challengeId !== challenge.challengeId) {
    return done({ outcome: "fail", reason: "wrong_challenge" });
  }
  if (reveal.rows.length !== request.rows.length) {
    return done({
      outcome: "fail",
      reason: "malformed_reveal",
      detail: "row count differs from the request",
    });
  }
  const { n, inner, batch } = challenge.size;
  const root = fromHex(commit.root);
  const { r, br } = challenge.key;
  for (let k = 0; k < reveal.rows.length; k++) {
    const opened = reveal.rows[k];
    const asked = request.rows[k];
    const where = `row ${k} (matrix ${asked.matrix}, row ${asked.row})`;
    if (opened.matrix !== asked.matrix || opened.row !== asked.row) {
      return done({
        outcome: "fail",
        reason: "malformed_reveal",
        detail: `${where} is not the requested row`,
        rowsChecked: k,
      });
    }
    if (!rowWithinBounds(opened.values, n, inner)) {
      return done({
        outcome: "fail",
        reason: "malformed_reveal",
        detail: `${where} has out-of-range values`,
        rowsChecked: k,
      });
    }
    const proof = proofBytes(opened.proof);
    const leaf = leafHash(opened.values, hash);
    const computed = proof && rootFromProof(leaf, asked.matrix * n + asked.row, batch * n, proof, hash);
    if (!computed || !bytesEqual(computed, root)) {
      return done({
        outcome: "fail",
        reason: "bad_proof",
        detail: `${where} does not open the committed root`,
        rowsChecked: k,
      });
    }
    if (aRowDot(challenge.seedState, asked.matrix, asked.row, br) !== rowDot(opened.values, r)) {
      return done({ outcome: "fail", reason: "wrong_row", detail: `${where} is not A·B`, rowsChecked: k });
    }
  }
  if (challenge.vram) {
    // Rows were right; now the memory phase. rowsChecked then counts the walk steps that were right.
    const memory = verifyMemory(
      { seed: challenge.seed, vram: challenge.vram, memoryCommit: input.memoryCommit, request, reveal },
      hash,
    );
    if (!memory.ok) {
      return done({
        outcome: "fail",
        reason: "vram_short",
        detail: memory.detail,
        rowsChecked: memory.checked,
      });
    }
  }
  return done({ outcome: "pass", rowsChecked: reveal.rows.length });
}

/** Proof nodes as bytes; null when one is not 32 bytes of hex (messages are schema-checked, this is a backstop). */
function proofBytes(proof: readonly string[]): Uint8Array[] | null {
  try {
    const nodes = proof.map(fromHex);
    return nodes.every((node) => node.length === 32) ? nodes : null;
  } catch {
    return null;
  }
}
