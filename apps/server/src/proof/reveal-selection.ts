import type { ProofCommitMessage, ProofRevealRequestMessage } from "@ignis/protocol/proof";
import { IgnisError } from "../../../../packages/protocol/src/errors.js";
import type { IssuedChallenge } from "./challenge.js";
import { cryptoRandom, type RandomSource, randomBelow } from "./random-source.js";

/**
 * Names the rows to open, drawn uniformly without replacement from all batch · n rows with a CSPRNG. Must be
 * called only after the commit arrived: a worker that knew the rows in advance would compute only those.
 */
export function chooseRevealRows(
  challenge: IssuedChallenge,
  commit: ProofCommitMessage,
  random: RandomSource = cryptoRandom,
): ProofRevealRequestMessage {
  if (commit.challengeId !== challenge.challengeId) {
    throw new IgnisError("bad_request", "the commit answers another challenge");
  }
  const { n, batch, revealRows } = challenge.size;
  const leafCount = n * batch;
  const leaves =
    leafCount <= 2 * revealRows
      ? shuffledPrefix(leafCount, revealRows, random)
      : sparse(leafCount, revealRows, random);
  const request: ProofRevealRequestMessage = {
    type: "proof.reveal-request",
    challengeId: challenge.challengeId,
    rows: leaves.map((leaf) => ({ matrix: Math.floor(leaf / n), row: leaf % n })),
  };
  const vram = challenge.vram;
  if (!vram) return request;
  // Walk steps are drawn the same way, after the commit: a prover that knew them would walk only those.
  const stepCount = vram.lanes * vram.steps;
  const steps =
    stepCount <= 2 * vram.openings
      ? shuffledPrefix(stepCount, vram.openings, random)
      : sparse(stepCount, vram.openings, random);
  return {
    ...request,
    vram: steps.map((at) => ({ lane: Math.floor(at / vram.steps), step: at % vram.steps })),
  };
}

/** k distinct leaves out of many: rejection of repeats terminates fast since k ≤ leafCount / 2. */
function sparse(leafCount: number, k: number, random: RandomSource): number[] {
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(randomBelow(random, leafCount));
  return [...chosen];
}

/** The first k of a Fisher–Yates shuffle of all leaves (small trees; k = leafCount opens every row). */
function shuffledPrefix(leafCount: number, k: number, random: RandomSource): number[] {
  const all = Array.from({ length: leafCount }, (_, i) => i);
  const take = Math.min(k, leafCount);
  for (let i = 0; i < take; i++) {
    const j = i + randomBelow(random, leafCount - i);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, take);
}
