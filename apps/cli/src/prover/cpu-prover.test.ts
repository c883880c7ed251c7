import { nobleSha256, type ProofChallengeMessage, proofTestVectors } from "@ignis/protocol/proof";
import { describe, expect, it } from "vitest";
import { IgnisError } from "../../../../packages/protocol/src/errors.js";
import { createCpuProver } from "./cpu-prover.js";

const challengeOf = (v: (typeof proofTestVectors)[number]): ProofChallengeMessage => ({
  type: "proof.challenge",
  challengeId: v.name,
  seed: v.seed,
  bSeed: v.bSeed,
  n: v.n,
  inner: v.inner,
  batch: v.batch,
  deadlineMs: 1000,
});

describe("the CPU reference prover", () => {
  it("reproduces the root, rows and proofs of every test vector", async () => {
    const prover = createCpuProver();
    for (const v of proofTestVectors) {
      const commit = await prover.commit(challengeOf(v));
      expect(commit).toMatchObject({ type: "proof.commit", challengeId: v.name, root: v.root });
      const reveal = await prover.reveal({
        type: "proof.reveal-request",
        challengeId: v.name,
        rows: v.rows.map(({ matrix, row }) => ({ matrix, row })),
      });
      expect(reveal.rows).toEqual(v.rows);
    }
  });

  it("commits to the same bytes with the portable hash as with node:crypto", async () => {
    const v = proofTestVectors[1];
    const commit = await createCpuProver({ hash: nobleSha256 }).commit(challengeOf(v));
    expect(commit.root).toBe(v.root);
  });

  it("refuses to open rows of a challenge it never committed to or has forgotten", async () => {
    const prover = createCpuProver({ keep: 1 });
    const [first, second] = proofTestVectors;
    await prover.commit(challengeOf(first));
    await prover.commit(challengeOf(second));
    const request = {
      type: "proof.reveal-request" as const,
      challengeId: first.name,
      rows: [{ matrix: 0, row: 0 }],
    };
    await expect(prover.reveal(request)).rejects.toMatchObject({ code: "not_found" });
    await expect(prover.reveal(request)).rejects.toBeInstanceOf(IgnisError);
  });

  it("refuses to open a row outside the challenge", async () => {
    const prover = createCpuProver();
    const v = proofTestVectors[0];
    await prover.commit(challengeOf(v));
    const request = {
      type: "proof.reveal-request" as const,
      challengeId: v.name,
      rows: [{ matrix: v.batch, row: 0 }],
    };
    await expect(prover.reveal(request)).rejects.toMatchObject({ code: "bad_request" });
  });

  it("refuses at once a GPU-sized challenge it could never finish in time", async () => {
    const gpuChallenge = {
      ...challengeOf(proofTestVectors[0]),
      n: 2048,
      inner: 32768,
      batch: 8615,
      deadlineMs: 2551,
    };
    await expect(createCpuProver().commit(gpuChallenge)).rejects.toMatchObject({ code: "unavailable" });
  });

  it("lets the event loop run between matrices while it computes", async () => {
    const v = proofTestVectors[2];
    let done = false;
    let beats = 0;
    const beat = () => {
      if (done) return;
      beats++;
      setImmediate(beat);
    };
    setImmediate(beat);
    await createCpuProver().commit(challengeOf(v));
    done = true;
    expect(beats).toBeGreaterThanOrEqual(v.batch - 1);
  });
});
