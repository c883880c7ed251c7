import { type ProofRevealMessage, sizeChallenge, toHex } from "@ignis/protocol/proof";
import { describe, expect, it } from "vitest";
import { findHardwareProfile } from "../../../../packages/protocol/src/hardware-profiles.js";
import { challengeMatrices, productRow } from "../../../cli/src/prover/cpu-product.js";
import { createCpuProver } from "../../../cli/src/prover/cpu-prover.js";
import { nodeSha256 } from "../../../cli/src/prover/node-sha256.js";
import { buildRowCommitment, openRows } from "../../../cli/src/prover/row-commitment.js";
import { createChallenge } from "./challenge.js";
import { seededRandom } from "./random-source.js";
import { chooseRevealRows } from "./reveal-selection.js";
import { createVerifierKeyring } from "./verifier-key.js";
import { REVEAL_TIMEOUT_MS, verifyReveal } from "./verify-reveal.js";

const keyring = createVerifierKeyring({ random: seededRandom("verify keys") });

async function honestExchange(label: string) {
  const challenge = createChallenge({
    profile: findHardwareProfile("sim-h100")!,
    gpuCount: 1,
    rttMs: 0,
    keyring,
    nowMs: 0,
    random: seededRandom(label),
  });
  const prover = createCpuProver();
  const commit = await prover.commit(challenge.message);
  const request = chooseRevealRows(challenge, commit, seededRandom(`${label} rows`));
  return { challenge, commit, request, prover };
}

const deadlineMs = sizeChallenge(findHardwareProfile("sim-h100")!, { gpuCount: 1, rttMs: 0 }).deadlineMs;

async function verifyHonest(
  label: string,
  edit?: (reveal: ProofRevealMessage) => ProofRevealMessage,
  times = {},
) {
  const { challenge, commit, request, prover } = await honestExchange(label);
  const reveal = await prover.reveal(request);
  const input = {
    challenge,
    commit,
    commitReceivedAtMs: challenge.size.deadlineMs,
    request,
    requestSentAtMs: challenge.size.deadlineMs,
    reveal: edit ? edit(reveal) : reveal,
    revealReceivedAtMs: challenge.size.deadlineMs + 5,
    ...times,
  };
  return verifyReveal(input);
}

describe("verifying a reveal", () => {
  it("passes a correct reveal that arrives by the deadline, checking every requested row", async () => {
    const result = await verifyHonest("honest");
    const { challenge } = await honestExchange("honest");
    expect(result).toMatchObject({ outcome: "pass", reason: null, rowsChecked: challenge.size.revealRows });
    expect(result.commitLatencyMs).toBe(result.deadlineMs);
    expect(result.verifyCpuMs).toBeGreaterThan(0);
  });

  it("times out a commit that arrives a millisecond after the deadline", async () => {
    const result = await verifyHonest("late", undefined, { commitReceivedAtMs: deadlineMs + 1 });
    expect(result).toMatchObject({ outcome: "timeout", reason: "commit_late" });
  });

  it("times out a reveal that takes longer than the reveal timeout", async () => {
    const result = await verifyHonest("slow reveal", undefined, {
      revealReceivedAtMs: 10 ** 9 + REVEAL_TIMEOUT_MS,
    });
    expect(result).toMatchObject({ outcome: "timeout", reason: "reveal_late" });
  });

  it("fails a revealed value that differs from the committed row", async () => {
    const result = await verifyHonest("edited", (r) => ({
      ...r,
      rows: r.rows.map((row, i) =>
        i === 3 ? { ...row, values: row.values.map((v, j) => (j === 0 ? v + 1 : v)) } : row,
      ),
    }));
    expect(result).toMatchObject({ outcome: "fail", reason: "bad_proof", rowsChecked: 3 });
  });

  it("fails a proof with a missing sibling", async () => {
    const result = await verifyHonest("short proof", (r) => ({
      ...r,
      rows: r.rows.map((row) => ({ ...row, proof: row.proof.slice(1) })),
    }));
    expect(result).toMatchObject({ outcome: "fail", reason: "bad_proof" });
  });

  it("fails rows in another order, missing rows and out-of-range values as malformed", async () => {
    const swapped = await verifyHonest("swapped", (r) => ({
      ...r,
      rows: [r.rows[1], r.rows[0], ...r.rows.slice(2)],
    }));
    expect(swapped).toMatchObject({ outcome: "fail", reason: "malformed_reveal" });
    const missing = await verifyHonest("missing", (r) => ({ ...r, rows: r.rows.slice(1) }));
    expect(missing).toMatchObject({ outcome: "fail", reason: "malformed_reveal" });
    const huge = await verifyHonest("huge", (r) => ({
      ...r,
      rows: r.rows.map((row) => ({ ...row, values: row.values.map(() => 2 ** 30) })),
    }));
    expect(huge).toMatchObject({ outcome: "fail", reason: "malformed_reveal" });
  });

  it("fails answers carrying another challenge's id", async () => {
    const result = await verifyHonest("other id", (r) => ({ ...r, challengeId: "someone else" }));
    expect(result).toMatchObject({ outcome: "fail", reason: "wrong_challenge" });
  });

  it("catches a committed product with a single wrong entry per row (Freivalds)", async () => {
    const { challenge, request } = await honestExchange("off by one");
    const matrices = challengeMatrices(challenge.message);
    const rowAt = (m: number, i: number) => {
      const row = productRow(matrices, m, i);
      row[(m + i) % row.length] -= 1;
      return row;
    };
    const commitment = await buildRowCommitment(matrices, rowAt, nodeSha256);
    const commit = {
      type: "proof.commit" as const,
      challengeId: challenge.challengeId,
      root: toHex(commitment.root),
      elapsedMs: 1,
    };
    const result = verifyReveal({
      challenge,
      commit,
      commitReceivedAtMs: 1,
      request,
      requestSentAtMs: 1,
      reveal: openRows(commitment, request, rowAt),
      revealReceivedAtMs: 2,
    });
    expect(result).toMatchObject({ outcome: "fail", reason: "wrong_row", rowsChecked: 0 });
  });
});
