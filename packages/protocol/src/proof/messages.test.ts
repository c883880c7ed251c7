import { describe, expect, it } from "vitest";
import {
  MAX_REVEAL_ROWS,
  proofChallengeMessage,
  proofCommitMessage,
  proofMessage,
  proofRevealMessage,
  proofRevealRequestMessage,
} from "./messages.js";

const hex = "ab".repeat(32);
const challenge = {
  type: "proof.challenge",
  challengeId: "c1",
  seed: hex,
  bSeed: hex,
  n: 2048,
  inner: 32768,
  batch: 3000,
  deadlineMs: 2600,
};

describe("proof wire messages", () => {
  it("accept well-formed messages of all four kinds and route them by type", () => {
    const commit = { type: "proof.commit", challengeId: "c1", root: hex, elapsedMs: 1999.5 };
    const request = { type: "proof.reveal-request", challengeId: "c1", rows: [{ matrix: 2, row: 7 }] };
    const reveal = {
      type: "proof.reveal",
      challengeId: "c1",
      rows: [{ matrix: 2, row: 7, values: new Array(16).fill(-3), proof: [hex] }],
    };
    expect(proofChallengeMessage.parse(challenge)).toEqual(challenge);
    expect(proofCommitMessage.parse(commit)).toEqual(commit);
    expect(proofRevealRequestMessage.parse(request)).toEqual(request);
    expect(proofRevealMessage.parse(reveal)).toEqual(reveal);
    expect(proofMessage.parse(reveal).type).toBe("proof.reveal");
  });

  it("refuse sizes that break the GPU layout or the exact-arithmetic bounds", () => {
    expect(proofChallengeMessage.safeParse({ ...challenge, n: 2040 }).success).toBe(false);
    expect(proofChallengeMessage.safeParse({ ...challenge, inner: 1 << 17 }).success).toBe(false);
    expect(proofChallengeMessage.safeParse({ ...challenge, n: 16384, inner: 65536 }).success).toBe(false);
    expect(proofChallengeMessage.safeParse({ ...challenge, batch: 0 }).success).toBe(false);
  });

  it("refuse upper-case or short roots and oversized reveals", () => {
    expect(
      proofCommitMessage.safeParse({
        type: "proof.commit",
        challengeId: "c",
        root: "AB".repeat(32),
        elapsedMs: 1,
      }).success,
    ).toBe(false);
    expect(
      proofCommitMessage.safeParse({ type: "proof.commit", challengeId: "c", root: "ab", elapsedMs: 1 })
        .success,
    ).toBe(false);
    const rows = Array.from({ length: MAX_REVEAL_ROWS + 1 }, (_, i) => ({ matrix: 0, row: i }));
    expect(
      proofRevealRequestMessage.safeParse({ type: "proof.reveal-request", challengeId: "c", rows }).success,
    ).toBe(false);
  });
});
