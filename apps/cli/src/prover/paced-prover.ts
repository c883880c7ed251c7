import { challengeWorkOps, type ProofChallengeMessage } from "@ignis/protocol/proof";
import type { Prover } from "./prover.js";
import type { ProverClock } from "./prover-clock.js";

/** How a paced prover models its hardware. */
export interface PacingOptions {
  /** Operations per second of the modelled hardware on the proof workload. */
  readonly opsPerSecond: number;
  readonly clock: ProverClock;
  /** Factor applied to each commit's modelled duration (timing noise in simulations); 1 when absent. */
  readonly jitter?: () => number;
}

/** Milliseconds the modelled hardware needs for `fraction` of a challenge's work. */
export function modelledComputeMs(
  challenge: ProofChallengeMessage,
  opsPerSecond: number,
  fraction = 1,
): number {
  return ((challengeWorkOps(challenge) * fraction) / opsPerSecond) * 1000;
}

/**
 * Wraps a prover so that each commit takes at least the time the modelled hardware would need: a CPU that is
 * faster than the model waits out the difference. Simulated devices (profile.simulated) are CPU provers
 * paced at their profile's rate; the rate-capped adversaries are the same thing at a slower true rate.
 */
export function pacedProver(inner: Prover, pacing: PacingOptions, name = `paced ${inner.name}`): Prover {
  return {
    name,
    ...(inner.provesMemory ? { provesMemory: true } : {}),
    async commit(challenge) {
      const started = pacing.clock.now();
      const commit = await inner.commit(challenge);
      const modelled = modelledComputeMs(challenge, pacing.opsPerSecond) * (pacing.jitter?.() ?? 1);
      await pacing.clock.sleep(started + modelled - pacing.clock.now());
      return { ...commit, elapsedMs: pacing.clock.now() - started };
    },
    ...(inner.commitMemory ? { commitMemory: inner.commitMemory.bind(inner) } : {}),
    reveal: (request) => inner.reveal(request),
    close: () => inner.close(),
  };
}
