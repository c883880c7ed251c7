import { z } from "zod";
import { IgnisError } from "./errors.js";

/**
 * Versions of the worker session protocol and how a session picks one. A server speaks the current version (N)
 * and the one before it (N-1), so a release that changes the protocol never cuts the workers that have not
 * updated yet. The worker's `session.auth` names the range it speaks and the optional features it implements;
 * the server answers in `session.hello` with the version it chose and the features both sides know. A worker
 * that names no range is a v1 worker and is spoken to in v1, exactly as before.
 *
 * v2 differs from v1 by the negotiation itself (the `protocol`, `workerVersion` and `features` fields) and by
 * the server messages only v2 sessions receive (`worker.notice`, `worker.update-available`).
 */

/** The newest protocol version this build speaks (N). Frames it sends carry the session's negotiated version. */
export const WORKER_PROTOCOL_VERSION = 2;
/** The oldest protocol version this build still accepts (N-1). */
export const WORKER_PROTOCOL_MIN_VERSION = 1;

/** A range of protocol versions, both ends included. */
export const ProtocolRange = z
  .strictObject({ min: z.int().min(0).max(1000), max: z.int().min(0).max(1000) })
  .refine((r) => r.min <= r.max, { message: "min must not exceed max" });
/** A parsed `ProtocolRange`. */
export type ProtocolRange = z.infer<typeof ProtocolRange>;

/** The range this build speaks, on either side of the session. */
export const SUPPORTED_WORKER_PROTOCOLS: ProtocolRange = Object.freeze({
  min: WORKER_PROTOCOL_MIN_VERSION,
  max: WORKER_PROTOCOL_VERSION,
});

/**
 * Optional capabilities a worker announces in its opener. A server sends a frame that needs a feature only to a
 * session that negotiated it (see FRAME_FEATURES); add a name here with the frames that need it. `auto-update`
 * is announced only by a worker whose owner turned automatic updates on: staged rollouts offer releases to those.
 * `proof-vram` is announced only by a worker whose prover answers the memory phase of proof of GPU: the server
 * adds that phase (a `vram` field on `proof.challenge`) to its challenges only then.
 */
export const WORKER_FEATURES = [
  "self-update",
  "notices",
  "proof-verdicts",
  "auto-update",
  "link-probe",
  "proof-vram",
] as const;
/** One optional capability of a worker. */
export type WorkerFeature = (typeof WORKER_FEATURES)[number];

/** A feature name as announced on the wire: unknown names are ignored, not refused (newer workers add some). */
export const FeatureName = z
  .string()
  .regex(/^[a-z][a-z0-9.-]{0,39}$/)
  .max(40);

/**
 * Server message types a session must have negotiated a feature for. `WorkerSession.send` drops such a message
 * to a session without it (and says so by returning false), so a v1 worker never sees a frame it cannot decode.
 */
export const FRAME_FEATURES: Readonly<Record<string, WorkerFeature>> = Object.freeze({
  "worker.notice": "notices",
  "worker.update-available": "self-update",
  "proof.verdict": "proof-verdicts",
  "link.probe": "link-probe",
  "link.result": "link-probe",
});

/** A worker release number: `MAJOR.MINOR.PATCH`, with an optional pre-release tag (`0.2.0-rc.1`). */
export const WorkerVersion = z
  .string()
  .max(40)
  .regex(/^\d{1,6}\.\d{1,6}\.\d{1,6}(-[0-9A-Za-z.-]{1,20})?$/, "expected MAJOR.MINOR.PATCH");
/** A parsed `WorkerVersion`. */
export type WorkerVersion = z.infer<typeof WorkerVersion>;

/**
 * Orders two worker releases: negative when `a` is older than `b`. A pre-release sorts before its release
 * (`0.2.0-rc.1` < `0.2.0`); two pre-release tags compare as text.
 */
export function compareWorkerVersions(a: string, b: string): number {
  const split = (v: string) => {
    const [core = "", pre] = v.split(/-(.*)/s, 2);
    return { parts: core.split(".").map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

/** What a session agreed on: the version both sides speak and the features both know. */
export interface NegotiatedProtocol {
  version: number;
  features: readonly WorkerFeature[];
}

/** The refusal of a worker whose protocol range does not meet this build's. */
export function protocolUnsupported(offered: ProtocolRange | number): IgnisError {
  const offeredText = typeof offered === "number" ? `v${offered}` : `v${offered.min}-v${offered.max}`;
  return new IgnisError(
    "protocol_unsupported",
    `this server speaks worker protocol v${WORKER_PROTOCOL_MIN_VERSION}-v${WORKER_PROTOCOL_VERSION}; the worker offered ${offeredText}: update the worker (ignis worker update)`,
    { details: { supported: SUPPORTED_WORKER_PROTOCOLS, offered } },
  );
}

/**
 * Picks the version of a session: the highest both ranges hold. No range means a v1 worker, spoken to in v1
 * (its frames' envelopes were already checked by the decoder); a range that misses ours throws
 * `protocol_unsupported`.
 */
export function negotiateProtocol(offer: {
  protocol?: ProtocolRange | undefined;
  features?: readonly string[] | undefined;
}): NegotiatedProtocol {
  if (!offer.protocol) return { version: 1, features: [] };
  const version = Math.min(offer.protocol.max, WORKER_PROTOCOL_VERSION);
  if (version < Math.max(offer.protocol.min, WORKER_PROTOCOL_MIN_VERSION)) {
    throw protocolUnsupported(offer.protocol);
  }
  // Features ride on v2 and later; a v1 session has none.
  const offered = new Set(offer.features ?? []);
  const features = version >= 2 ? WORKER_FEATURES.filter((f) => offered.has(f)) : [];
  return { version, features };
}

/** True when `version` is one this build accepts in a frame envelope. */
export function isSupportedProtocolVersion(version: unknown): version is number {
  return (
    typeof version === "number" &&
    Number.isInteger(version) &&
    version >= WORKER_PROTOCOL_MIN_VERSION &&
    version <= WORKER_PROTOCOL_VERSION
  );
}
