import type {
  ProofChallengeMessage,
  ProofCommitMessage,
  ProofRevealMessage,
  ProofRevealRequestMessage,
  ProofVramCommitMessage,
} from "@ignis/protocol/proof";

/**
 * A proof-of-GPU backend: answers a challenge with a commitment, then opens the rows the server names.
 * A prover remembers its recent commitments, so reveal() must follow commit() for the same challengeId.
 */
export interface Prover {
  /** Which implementation this is, for logs ("cpu", "cuda", "simulated sim-h100", "adversary: …"). */
  readonly name: string;
  /** True when the prover answers the memory phase (a challenge's `vram`); the worker then announces `proof-vram`. */
  readonly provesMemory?: boolean;
  /** Computes every product row, hashes them and returns the Merkle root. */
  commit(challenge: ProofChallengeMessage): Promise<ProofCommitMessage>;
  /** Fills, commits and walks the memory phase's buffer of a challenge with `vram`, after commit(). */
  commitMemory?(challenge: ProofChallengeMessage): Promise<ProofVramCommitMessage>;
  /** Opens the requested rows of an earlier commitment, with their Merkle proofs. */
  reveal(request: ProofRevealRequestMessage): Promise<ProofRevealMessage>;
  /** Releases processes and memory. */
  close(): Promise<void>;
}
