/**
 * Dishonest provers for tests, benchmarks and `ignis sim`, never for real workers. Each models one way a
 * counterfeit or overclaimed device could try to pass a challenge; the server must catch every one
 * (apps/server/src/proof/adversaries.test.ts, bench/proof-verify.ts).
 */

import {
  fmix32,
  type ProofChallengeMessage,
  type ProofCommitMessage,
  type ProofRevealMessage,
  type ProofRevealRequestMessage,
  type Sha256,
  toHex,
} from "@ignis/protocol/proof";
import { IgnisError } from "../../../../packages/protocol/src/errors.js";
import {
  type HardwareProfile,
  profileOpsPerSecond,
} from "../../../../packages/protocol/src/hardware-profiles.js";
import { challengeMatrices, productRow } from "./cpu-product.js";
import { createCpuProver } from "./cpu-prover.js";
import { nodeSha256 } from "./node-sha256.js";
import { modelledComputeMs, type PacingOptions, pacedProver } from "./paced-prover.js";
import type { Prover } from "./prover.js";
import { type ProverClock, systemClock } from "./prover-clock.js";
import { buildRowCommitment, openRows, type RowCommitment } from "./row-commitment.js";

/** A plausible but wrong row: deterministic junk of the right length, within the product's value range. */
function junkRow(challengeId: string, leaf: number, n: number, inner: number): Int32Array {
  const span = 64 * inner;
  let state = fmix32(leaf ^ 0x5bd1e995);
  for (let i = 0; i < challengeId.length; i++) state = fmix32(state ^ challengeId.charCodeAt(i));
  const row = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    state = fmix32(state + 0x9e3779b9);
    row[j] = (state % (2 * span + 1)) - span;
  }
  return row;
}

/**
 * Computes only the first ⌈fraction · batch · n⌉ rows (whole matrices first, as a GPU would) and commits
 * junk for the rest, hoping the server opens only computed rows: it passes with probability ≈ fraction^k.
 * With `pacing`, the commit takes the modelled time of the computed fraction only.
 */
export function partialRowsProver(options: {
  fraction: number | ((challenge: ProofChallengeMessage) => number);
  pacing?: PacingOptions;
  hash?: Sha256;
}): Prover {
  const hash = options.hash ?? nodeSha256;
  const held = new Map<string, { commitment: RowCommitment; rowAt: (m: number, i: number) => Int32Array }>();
  return {
    name: "adversary: partial rows",
    async commit(challenge) {
      const clock = options.pacing?.clock ?? systemClock;
      const started = clock.now();
      const fraction = typeof options.fraction === "number" ? options.fraction : options.fraction(challenge);
      const matrices = challengeMatrices(challenge);
      const computed = Math.ceil(Math.min(1, Math.max(0, fraction)) * challenge.batch * challenge.n);
      const rowAt = (m: number, i: number) => {
        const leaf = m * challenge.n + i;
        return leaf < computed
          ? productRow(matrices, m, i)
          : junkRow(challenge.challengeId, leaf, challenge.n, challenge.inner);
      };
      const commitment = await buildRowCommitment(challenge, rowAt, hash);
      held.clear();
      held.set(challenge.challengeId, { commitment, rowAt });
      if (options.pacing) {
        const modelled =
          modelledComputeMs(challenge, options.pacing.opsPerSecond, fraction) *
          (options.pacing.jitter?.() ?? 1);
        await clock.sleep(started + modelled - clock.now());
      }
      return commitMessage(challenge, commitment, clock.now() - started);
    },
    async reveal(request) {
      const state = held.get(request.challengeId);
      if (!state) throw new IgnisError("not_found", "no commitment for this challenge");
      return openRows(state.commitment, request, state.rowAt);
    },
    async close() {
      held.clear();
    },
  };
}

/** Computes half the rows and fills the rest with junk. */
export function halfRowsProver(options: { hash?: Sha256 } = {}): Prover {
  return { ...partialRowsProver({ fraction: 0.5, hash: options.hash }), name: "adversary: half rows" };
}

/**
 * The smart counterfeit: a device with true rate `opsPerSecond` that computes as many rows as fit before
 * the deadline (less `marginMs` for the round trip) and junk for the rest, then commits on time.
 */
export function deadlineFittingProver(pacing: PacingOptions & { marginMs?: number }): Prover {
  const fraction = (challenge: ProofChallengeMessage) =>
    Math.min(
      1,
      (challenge.deadlineMs - (pacing.marginMs ?? 0)) / modelledComputeMs(challenge, pacing.opsPerSecond),
    );
  return { ...partialRowsProver({ fraction, pacing }), name: "adversary: deadline-fitting partial rows" };
}

/** Honest results at the true, slower rate: a slower GPU claiming a faster model. */
export function rateCappedProver(pacing: PacingOptions): Prover {
  return pacedProver(createCpuProver({ clock: pacing.clock }), pacing, "adversary: rate-capped");
}

/** Claims `profile` × claimedCount but has only trueGpuCount devices: the challenge's work is spread over fewer. */
export function gpuCountOverclaimer(options: {
  profile: HardwareProfile;
  trueGpuCount: number;
  clock: ProverClock;
  jitter?: () => number;
}): Prover {
  const opsPerSecond = profileOpsPerSecond(options.profile) * options.trueGpuCount;
  return {
    ...rateCappedProver({ opsPerSecond, clock: options.clock, jitter: options.jitter }),
    name: "adversary: GPU-count overclaimer",
  };
}

/** Commits a random root without computing anything, and opens junk rows with junk proofs. */
export function randomRootProver(random: (length: number) => Uint8Array): Prover {
  const shapes = new Map<string, { n: number; inner: number; depth: number }>();
  return {
    name: "adversary: random root",
    async commit(challenge) {
      shapes.clear();
      shapes.set(challenge.challengeId, {
        n: challenge.n,
        inner: challenge.inner,
        depth: Math.ceil(Math.log2(challenge.batch * challenge.n)),
      });
      return {
        type: "proof.commit",
        challengeId: challenge.challengeId,
        root: toHex(random(32)),
        elapsedMs: 0,
      };
    },
    async reveal(request): Promise<ProofRevealMessage> {
      const shape = shapes.get(request.challengeId);
      if (!shape) throw new IgnisError("not_found", "no commitment for this challenge");
      return {
        type: "proof.reveal",
        challengeId: request.challengeId,
        rows: request.rows.map(({ matrix, row }) => ({
          matrix,
          row,
          values: Array.from(junkRow(request.challengeId, matrix * shape.n + row, shape.n, shape.inner)),
          proof: Array.from({ length: shape.depth }, () => toHex(random(32))),
        })),
      };
    },
    async close() {
      shapes.clear();
    },
  };
}

/**
 * Computes its first challenge honestly, then answers every later challenge with that commitment (under the
 * new challenge id) and opens the old rows: the Merkle proofs hold, the products are for another seed.
 */
export function replayProver(): Prover {
  const inner = createCpuProver({ keep: 1 });
  let first: { commit: ProofCommitMessage; challenge: ProofChallengeMessage } | undefined;
  return {
    name: "adversary: replay",
    async commit(challenge) {
      if (!first) first = { commit: await inner.commit(challenge), challenge };
      return { ...first.commit, challengeId: challenge.challengeId, elapsedMs: 0 };
    },
    async reveal(request: ProofRevealRequestMessage) {
      if (!first) throw new IgnisError("not_found", "no commitment to replay");
      const old = first.challenge;
      const rows = request.rows.map(({ matrix, row }) => ({ matrix: matrix % old.batch, row: row % old.n }));
      const opened = await inner.reveal({ ...request, challengeId: old.challengeId, rows });
      return {
        ...opened,
        challengeId: request.challengeId,
        rows: opened.rows.map((r, i) => ({ ...r, matrix: request.rows[i].matrix, row: request.rows[i].row })),
      };
    },
    close: () => inner.close(),
  };
}

function commitMessage(challenge: ProofChallengeMessage, commitment: RowCommitment, elapsedMs: number) {
  return {
    type: "proof.commit" as const,
    challengeId: challenge.challengeId,
    root: toHex(commitment.root),
    elapsedMs,
  };
}

/**
 * Claims more memory than it has: computes every product row honestly but keeps only `fraction` of the memory
 * phase's buffer (every block whose index hashes below the fraction). Reads of the blocks it dropped are
 * guessed (zeros), which the opened walk steps expose (`vram_short`), or with `missing: "rebuild"` recomputed
 * from the lane's start, which is right but slow: only the time bound catches that one.
 */
export function vramShortProver(options: {
  fraction: number;
  missing?: "guess" | "rebuild";
  hash?: Sha256;
  clock?: ProverClock;
}): Prover {
  const threshold = Math.floor(options.fraction * 2 ** 32);
  const prover = createCpuProver({
    ...(options.hash ? { hash: options.hash } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    memory: {
      keep: (index) => fmix32(index ^ 0x27d4eb2f) >>> 0 < threshold,
      missing: options.missing ?? "guess",
    },
  });
  return {
    ...prover,
    name: `adversary: holds ${Math.round(options.fraction * 100)}% of the memory it claims`,
  };
}
