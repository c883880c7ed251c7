import {
  type ChallengeSize,
  PROOF_SLACK,
  type ProofChallengeMessage,
  type SeedState,
  seedState,
  sizeChallenge,
  sizeVramCheck,
  toHex,
  type VramSize,
} from "@ignis/protocol/proof";
import type { HardwareProfile } from "../../../../packages/protocol/src/hardware-profiles.js";
import { cryptoRandom, type RandomSource } from "./random-source.js";
import type { VerifierKey, VerifierKeyring } from "./verifier-key.js";

/** A challenge as the server remembers it between sending it and judging the answers. */
export interface IssuedChallenge {
  readonly challengeId: string;
  readonly profileId: string;
  readonly gpuCount: number;
  /** Fresh 32-byte seed of the A matrices. */
  readonly seed: Uint8Array;
  readonly seedState: SeedState;
  /** The key (bSeed, r, B·r) this challenge is checked with, kept even if the keyring rotates. */
  readonly key: VerifierKey;
  readonly size: ChallengeSize;
  /**
   * The memory phase, for workers that announced `proof-vram` and profiles that claim memory; else null.
   * `deadlineMs` runs from sending the challenge to receiving `proof.vram-commit`.
   */
  readonly vram: (VramSize & { readonly deadlineMs: number }) | null;
  /** Server clock when the challenge was sent; the commit deadline runs from here. */
  readonly issuedAtMs: number;
  /** What goes on the wire. */
  readonly message: ProofChallengeMessage;
}

/** What the server knows when it challenges a device. */
export interface CreateChallengeInput {
  readonly profile: HardwareProfile;
  readonly gpuCount: number;
  /** The session's measured round trip (capped by sizing, see MAX_RTT_ALLOWANCE_MS). */
  readonly rttMs: number;
  readonly keyring: VerifierKeyring;
  /** Server clock at sending time. */
  readonly nowMs: number;
  readonly random?: RandomSource;
  /** The worker announced `proof-vram`: add the memory phase. */
  readonly provesMemory?: boolean;
}

/** Issues a challenge for the claimed profile and GPU count: fresh seed and id, size and deadline from sizing. */
export function createChallenge(input: CreateChallengeInput): IssuedChallenge {
  const random = input.random ?? cryptoRandom;
  const size = sizeChallenge(input.profile, { gpuCount: input.gpuCount, rttMs: input.rttMs });
  const memory = input.provesMemory ? sizeVramCheck(input.profile, input.gpuCount) : null;
  // The memory phase follows the row commit, which keeps its own deadline: the phase's time (with the same
  // slack) is never time a slow device could spend on the rows.
  const vram = memory
    ? { ...memory, deadlineMs: size.deadlineMs + Math.ceil(memory.expectedMs * PROOF_SLACK) }
    : null;
  const key = input.keyring.keyFor(size, input.nowMs);
  const seed = random(32);
  const challengeId = toHex(random(16));
  return {
    challengeId,
    profileId: input.profile.id,
    gpuCount: input.gpuCount,
    seed,
    seedState: seedState(seed),
    key,
    size,
    vram,
    issuedAtMs: input.nowMs,
    message: {
      type: "proof.challenge",
      challengeId,
      seed: toHex(seed),
      bSeed: toHex(key.bSeed),
      n: size.n,
      inner: size.inner,
      batch: size.batch,
      deadlineMs: size.deadlineMs,
      ...(vram
        ? {
            vram: {
              blocks: vram.blocks,
              blockBytes: vram.blockBytes,
              lanes: vram.lanes,
              steps: vram.steps,
              deadlineMs: vram.deadlineMs,
            },
          }
        : {}),
    },
  };
}
