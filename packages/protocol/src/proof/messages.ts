import { z } from "zod";
import { MAX_PROOF_CELLS, MAX_PROOF_INNER, MAX_PROOF_N } from "./freivalds.js";

/**
 * WebSocket messages of the proof-of-GPU exchange. The session layer wraps them; each carries its `type`.
 * Bounds here are the protocol's hard limits, so a parsed message can be processed without overflow.
 */

/** Most matrices one challenge may ask for (also bounds the leaf count to batch · n ≤ 2^34). */
export const MAX_PROOF_BATCH = 1 << 20;
/** Most rows one reveal request may name (keeps a reveal of n = 2048 rows near 2 MB of JSON). */
export const MAX_REVEAL_ROWS = 128;
/** Longest Merkle proof: ⌈log2(MAX_PROOF_BATCH · MAX_PROOF_N)⌉. */
export const MAX_PROOF_DEPTH = 34;

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "expected 32 bytes as lower-case hex");
const challengeId = z.string().min(1).max(64);
const rowRef = {
  matrix: z
    .int()
    .min(0)
    .max(MAX_PROOF_BATCH - 1),
  row: z
    .int()
    .min(0)
    .max(MAX_PROOF_N - 1),
};

/** Most buffer blocks or walk leaves of a memory check (keeps Merkle proofs within MAX_PROOF_DEPTH). */
export const MAX_VRAM_LEAVES = 2 ** 34;
/** Largest memory-check block (a reveal opens two per step). */
export const MAX_VRAM_BLOCK_BYTES = 4096;

/** The memory phase's shape (vram.ts), only in challenges to workers that announced `proof-vram`. */
export const vramShape = z
  .object({
    blocks: z.int().min(16).max(MAX_VRAM_LEAVES),
    blockBytes: z
      .int()
      .min(64)
      .max(MAX_VRAM_BLOCK_BYTES)
      .refine((b) => b % 64 === 0, "blockBytes must be a multiple of 64"),
    lanes: z
      .int()
      .min(1)
      .max(1 << 20),
    steps: z
      .int()
      .min(1)
      .max(1 << 26),
  })
  .refine((v) => v.blocks % v.lanes === 0, "blocks must be a multiple of lanes")
  .refine((v) => v.lanes * (v.steps + 1) <= MAX_VRAM_LEAVES, "the walk is too long");

/** Server → worker: compute C_m = A_m · B for m < batch and commit to its rows before deadlineMs. */
export const proofChallengeMessage = z
  .object({
    type: z.literal("proof.challenge"),
    challengeId,
    /** Seed of the challenge's matrices A_0 .. A_{batch-1}; fresh for every challenge. */
    seed: hex32,
    /** Seed of the shared matrix B; rotates with the server's verifier key (see docs/proof-of-gpu.md). */
    bSeed: hex32,
    n: z
      .int()
      .min(16)
      .max(MAX_PROOF_N)
      .refine((n) => n % 16 === 0, "n must be a multiple of 16"),
    /** Inner dimension: A_m is n × inner and B is inner × n. */
    inner: z
      .int()
      .min(16)
      .max(MAX_PROOF_INNER)
      .refine((k) => k % 16 === 0, "inner must be a multiple of 16"),
    batch: z.int().min(1).max(MAX_PROOF_BATCH),
    /** Milliseconds from the server sending the challenge to it receiving the commit. */
    deadlineMs: z.int().min(1).max(600_000),
    /**
     * Also fill, commit and walk a buffer of this shape, and send `proof.vram-commit` within `deadlineMs` of the
     * challenge (`proof-vram` workers only). The row commit keeps its own deadline above.
     */
    vram: vramShape.and(z.object({ deadlineMs: z.int().min(1).max(600_000) })).optional(),
  })
  .refine((c) => c.n * c.inner <= MAX_PROOF_CELLS, "n · inner exceeds the exact-arithmetic bound");
/** A parsed proof.challenge message. */
export type ProofChallengeMessage = z.infer<typeof proofChallengeMessage>;

/** Worker → server: the Merkle root over all batch · n product rows. */
export const proofCommitMessage = z.object({
  type: z.literal("proof.commit"),
  challengeId,
  root: hex32,
  /** The worker's own measure of its compute time; informative only, the server times the exchange itself. */
  elapsedMs: z.number().min(0).max(86_400_000),
});
/** A parsed proof.commit message. */
export type ProofCommitMessage = z.infer<typeof proofCommitMessage>;

/** Worker → server (`proof-vram` sessions): the roots of the memory phase's buffer and walk, after the commit. */
export const proofVramCommitMessage = z.object({
  type: z.literal("proof.vram-commit"),
  challengeId,
  bufferRoot: hex32,
  walkRoot: hex32,
  /** The worker's own measure of the phase's time; informative only. */
  elapsedMs: z.number().min(0).max(86_400_000),
});
/** A parsed proof.vram-commit message. */
export type ProofVramCommitMessage = z.infer<typeof proofVramCommitMessage>;

/** Server → worker, only after the commit: the rows to open. */
export const proofRevealRequestMessage = z.object({
  type: z.literal("proof.reveal-request"),
  challengeId,
  rows: z.array(z.object(rowRef)).min(1).max(MAX_REVEAL_ROWS),
  /** Walk steps to open, when the challenge had a memory phase. */
  vram: z
    .array(
      z.object({
        lane: z
          .int()
          .min(0)
          .max(1 << 20),
        step: z
          .int()
          .min(0)
          .max(1 << 26),
      }),
    )
    .max(MAX_REVEAL_ROWS)
    .optional(),
});
/** A parsed proof.reveal-request message. */
export type ProofRevealRequestMessage = z.infer<typeof proofRevealRequestMessage>;

/** One opened row: its values and the Merkle siblings from the leaf up. */
export const revealedRow = z.object({
  ...rowRef,
  /**
   * The row's n integers. Finite numbers only here: the verifier checks integrality and range per row
   * (rowWithinBounds), which costs a quarter of zod's per-element int checks on a 1 MB reveal.
   */
  values: z.array(z.number()).min(16).max(MAX_PROOF_N),
  proof: z.array(hex32).max(MAX_PROOF_DEPTH),
});
/** A parsed revealed row. */
export type RevealedRow = z.infer<typeof revealedRow>;

const proofPath = z.array(hex32).max(MAX_PROOF_DEPTH);
/** A memory block, base64, with its Merkle proof in the buffer tree. */
const openedBlock = z.object({
  block: z.base64().max(Math.ceil(MAX_VRAM_BLOCK_BYTES / 3) * 4),
  proof: proofPath,
});

/** One opened walk step: x_s and x_s+1 with their walk-tree proofs, the block x_s read and its lane predecessor. */
export const openedStep = z.object({
  lane: z.int().min(0),
  step: z.int().min(0),
  x: hex32,
  xProof: proofPath,
  next: hex32,
  nextProof: proofPath,
  read: openedBlock,
  /** The read block's lane predecessor; null when the read block starts its lane. */
  prev: openedBlock.nullable(),
});
/** A parsed opened walk step. */
export type OpenedStep = z.infer<typeof openedStep>;

/** Worker → server: the requested rows, in the requested order. */
export const proofRevealMessage = z.object({
  type: z.literal("proof.reveal"),
  challengeId,
  rows: z.array(revealedRow).min(1).max(MAX_REVEAL_ROWS),
  /** The requested walk steps, in the requested order. */
  vram: z.array(openedStep).max(MAX_REVEAL_ROWS).optional(),
});
/** A parsed proof.reveal message. */
export type ProofRevealMessage = z.infer<typeof proofRevealMessage>;

/**
 * Server → worker (v2, feature `proof-verdicts`), after each decided challenge: whether the proof passed and what
 * the device's verification is now, so the worker can say so in plain words instead of leaving its owner to ask
 * the API. Informative only: nothing the worker does depends on it.
 */
export const proofVerdictMessage = z.object({
  type: z.literal("proof.verdict"),
  challengeId,
  outcome: z.enum(["pass", "fail"]),
  /** Why a failed proof failed (a stable code such as `deadline_missed`); null on a pass. */
  reason: z.string().max(200).nullable(),
  verification: z.enum(["unverified", "verified", "failed"]),
  quarantined: z.boolean(),
});
/** A parsed proof.verdict message. */
export type ProofVerdictMessage = z.infer<typeof proofVerdictMessage>;

/** Any proof message, discriminated by `type`. */
export const proofMessage = z.discriminatedUnion("type", [
  proofChallengeMessage,
  proofCommitMessage,
  proofVramCommitMessage,
  proofRevealRequestMessage,
  proofRevealMessage,
]);
/** A parsed proof message of any kind. */
export type ProofMessage = z.infer<typeof proofMessage>;
