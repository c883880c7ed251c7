import { SUPPORTED_WORKER_PROTOCOLS, WORKER_FEATURES } from "@ignis/protocol";
import cliPackage from "../../package.json" with { type: "json" };

/** The release of this worker, as its package names it; announced in every session opener. */
export const WORKER_RELEASE: string = cliPackage.version;

/**
 * What this worker announces in its opener: its release, the protocol range it speaks, the features it has
 * (`auto-update` only when its owner turned automatic updates on, `proof-vram` only when its prover answers the
 * memory phase).
 */
export function workerOffer(release: string = WORKER_RELEASE, autoUpdate = false, provesMemory = false) {
  return {
    workerVersion: release,
    protocol: { ...SUPPORTED_WORKER_PROTOCOLS },
    features: WORKER_FEATURES.filter(
      (f) => (f !== "auto-update" || autoUpdate) && (f !== "proof-vram" || provesMemory),
    ),
  };
}
