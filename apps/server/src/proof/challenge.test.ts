import { proofChallengeMessage, sizeChallenge, toHex } from "@ignis/protocol/proof";
import { describe, expect, it } from "vitest";
import { findHardwareProfile } from "../../../../packages/protocol/src/hardware-profiles.js";
import { createChallenge } from "./challenge.js";
import { seededRandom } from "./random-source.js";
import { chooseRevealRows } from "./reveal-selection.js";
import { createVerifierKeyring } from "./verifier-key.js";

const profile = findHardwareProfile("sim-a100")!;
const keyring = createVerifierKeyring({ random: seededRandom("keys") });
const issue = (gpuCount = 1, rttMs = 10) =>
  createChallenge({ profile, gpuCount, rttMs, keyring, nowMs: 5000 });

describe("issuing a challenge", () => {
  it("sends a well-formed message sized for the claimed profile, count and round trip", () => {
    const challenge = issue(2, 30);
    const size = sizeChallenge(profile, { gpuCount: 2, rttMs: 30 });
    expect(proofChallengeMessage.parse(challenge.message)).toEqual(challenge.message);
    expect(challenge.message).toMatchObject({
      n: size.n,
      inner: size.inner,
      batch: size.batch,
      deadlineMs: size.deadlineMs,
    });
    expect(challenge.message.bSeed).toBe(toHex(challenge.key.bSeed));
    expect(challenge.issuedAtMs).toBe(5000);
  });

  it("draws a fresh seed and id for every challenge while sharing the current key", () => {
    const a = issue();
    const b = issue();
    expect(a.message.seed).not.toBe(b.message.seed);
    expect(a.challengeId).not.toBe(b.challengeId);
    expect(a.key).toBe(b.key);
  });
});

describe("choosing the rows to open", () => {
  it("names the sized number of distinct rows inside the challenge", () => {
    const challenge = issue();
    const commit = {
      type: "proof.commit" as const,
      challengeId: challenge.challengeId,
      root: "00".repeat(32),
      elapsedMs: 1,
    };
    const request = chooseRevealRows(challenge, commit, seededRandom("rows"));
    const leaves = request.rows.map(({ matrix, row }) => matrix * challenge.size.n + row);
    expect(request.rows).toHaveLength(challenge.size.revealRows);
    expect(new Set(leaves).size).toBe(leaves.length);
    for (const { matrix, row } of request.rows) {
      expect(matrix).toBeLessThan(challenge.size.batch);
      expect(row).toBeLessThan(challenge.size.n);
    }
  });

  it("opens every row when the tree has no more rows than the sized count", () => {
    const challenge = createChallenge({
      profile: findHardwareProfile("sim-cpu")!,
      gpuCount: 1,
      rttMs: 0,
      keyring,
      nowMs: 0,
    });
    const commit = {
      type: "proof.commit" as const,
      challengeId: challenge.challengeId,
      root: "00".repeat(32),
      elapsedMs: 1,
    };
    const request = chooseRevealRows(challenge, commit);
    const leaves = request.rows
      .map(({ matrix, row }) => matrix * challenge.size.n + row)
      .sort((x, y) => x - y);
    expect(leaves).toEqual(Array.from({ length: challenge.size.n * challenge.size.batch }, (_, i) => i));
  });

  it("refuses a commit that answers another challenge", () => {
    const commit = {
      type: "proof.commit" as const,
      challengeId: "other",
      root: "00".repeat(32),
      elapsedMs: 1,
    };
    expect(() => chooseRevealRows(issue(), commit)).toThrow(/another challenge/);
  });
});
