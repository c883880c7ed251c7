import { revealRowsFor } from "@ignis/protocol/proof";
import { type CreateChallengeInput, createChallenge, type IssuedChallenge } from "./challenge.js";

/**
 * Deadline of simulated profiles: SIMULATED_SLACK × expected + SIMULATED_GRACE_MS + the RTT credit (at most
 * SIMULATED_RTT_ALLOWANCE_MS). A simulated device is a CPU prover paced to about 40 ms, usually in the same
 * process as other devices and the server, on a loaded CI machine, where a stall of a few hundred milliseconds
 * (JIT warm-up, an embedded database query, another suite) is ordinary: measured honest commits took up to
 * 350 ms for 52 ms of modelled work. At the real 1.25 honest simulated devices would flake, so they get a
 * fixed grace that absorbs such stalls. The price: timing alone catches a simulated counterfeit only from
 * about 2 + 800 ms / expected, i.e. 15–27× slower than claimed (expected is 33–66 ms across the simulated
 * profiles), which is why `ignis sim` and the tests make simulated counterfeits 50× slower or more. Partial,
 * random, replayed and half-computed answers are still caught by their rows, whatever the slack. Real
 * profiles keep the sizing's 1.25 and its 250 ms RTT cap untouched.
 */
export const SIMULATED_SLACK = 2;

/**
 * Multiplier on the memory phase's expected time for simulated profiles: the phase is CPU work on the event
 * loop the server and other simulated devices share in tests, and a guessing liar is caught by the opened steps
 * whatever the deadline (docs/proof-of-gpu.md, "Memory").
 */
export const SIMULATED_MEMORY_SLACK = 4;

/** Fixed allowance for load stalls on a simulated device's deadline. */
export const SIMULATED_GRACE_MS = 750;

/** Most RTT credit for a simulated profile: simulated devices run on the same host or LAN. */
export const SIMULATED_RTT_ALLOWANCE_MS = 50;

/**
 * Issues a challenge: createChallenge, with the deadline of a simulated profile widened as above (and the
 * rows to open recomputed for it, which opens more rows, never fewer).
 */
export function issueChallenge(input: CreateChallengeInput): IssuedChallenge {
  const challenge = createChallenge(input);
  if (!input.profile.simulated) return challenge;
  const { expectedMs, n, batch } = challenge.size;
  const rttAllowanceMs = Math.min(SIMULATED_RTT_ALLOWANCE_MS, Math.max(0, input.rttMs));
  const deadlineMs = Math.ceil(expectedMs * SIMULATED_SLACK + SIMULATED_GRACE_MS + rttAllowanceMs);
  const vram = challenge.vram && {
    ...challenge.vram,
    // The memory roots get their own stall grace: the rows' grace may already be spent when the phase starts.
    deadlineMs:
      deadlineMs + Math.ceil(challenge.vram.expectedMs * SIMULATED_MEMORY_SLACK) + SIMULATED_GRACE_MS,
  };
  const revealRows = Math.max(challenge.size.revealRows, revealRowsFor(expectedMs, deadlineMs, batch * n));
  return {
    ...challenge,
    size: { ...challenge.size, rttAllowanceMs, deadlineMs, revealRows },
    vram,
    message: {
      ...challenge.message,
      deadlineMs,
      ...(vram && challenge.message.vram
        ? { vram: { ...challenge.message.vram, deadlineMs: vram.deadlineMs } }
        : {}),
    },
  };
}
