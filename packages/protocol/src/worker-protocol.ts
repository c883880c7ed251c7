import { z } from "zod";
import {
  StreamAckMessage,
  StreamCloseMessage,
  StreamDataMessage,
  StreamEofMessage,
  StreamOpenedMessage,
  StreamOpenMessage,
} from "./cluster-access.js";
import { DeviceId } from "./common.js";
import { DeviceKeyId, Ed25519PublicKey, Ed25519Signature, HardwareClaim, HeartbeatLoad } from "./devices.js";
import { IgnisError } from "./errors.js";
import { checkedHotFrame } from "./hot-frames.js";
import {
  LinkMeasureMessage,
  LinkProbeAckMessage,
  LinkProbeMessage,
  LinkResultMessage,
} from "./link-probe.js";
import { JobLogMessage, JobStartMessage, JobStatusMessage, JobStopMessage } from "./market-jobs.js";
import { MeshLinksMessage } from "./mesh.js";
import {
  proofChallengeMessage,
  proofCommitMessage,
  proofRevealMessage,
  proofRevealRequestMessage,
  proofVerdictMessage,
  proofVramCommitMessage,
} from "./proof/messages.js";
import {
  FeatureName,
  isSupportedProtocolVersion,
  ProtocolRange,
  protocolUnsupported,
  WORKER_PROTOCOL_MIN_VERSION,
  WorkerVersion,
} from "./worker-versions.js";

/**
 * The worker session protocol: JSON text frames on `/v1/worker/session`, each an envelope `{ v, type, ... }`.
 * The server speaks first (`session.challenge`); the worker answers `session.auth`; after `session.hello` the
 * session is bound to one device and heartbeats need no signature. Which versions `v` may be and how a session
 * picks one is in worker-versions.ts.
 */

/** Path of the worker WebSocket, relative to the server URL. */
export const WORKER_SESSION_PATH = "/v1/worker/session";
/** Largest frame either side accepts; proof reveals are the largest messages. */
export const MAX_WORKER_MESSAGE_BYTES = 2 * 1024 * 1024;

/**
 * A worker asks for a `heartbeat.ack` on one heartbeat in this many, the first of each session included
 * (docs/worker-sessions.md); load generators that stand in for workers follow the same rule.
 */
export const HEARTBEAT_ACK_EVERY = 4;

/** Whether the session's heartbeat number `seq` (from 0) asks for an acknowledgement. */
export function heartbeatAsksAck(seq: number): boolean {
  return seq % HEARTBEAT_ACK_EVERY === 0;
}

/** A 32-byte random nonce, base64url (43 characters). */
export const SessionNonce = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

// ---- server → worker -------------------------------------------------------------------------------------

/** First frame of every session: sign this nonce together with your device id and the origin you dialled. */
export const SessionChallengeMessage = z.object({
  type: z.literal("session.challenge"),
  nonce: SessionNonce,
  /** The origin the server identifies as; a worker that dialled another origin will be refused. */
  origin: z.string(),
  /** The protocol versions the server speaks (absent from servers older than v2: speak v1 to them). */
  protocol: ProtocolRange.optional(),
});
/** A parsed `SessionChallengeMessage`. */
export type SessionChallengeMessage = z.infer<typeof SessionChallengeMessage>;

/** The session is authenticated and bound to `deviceId`; heartbeat every `heartbeatSeconds`. */
export const SessionHelloMessage = z.object({
  type: z.literal("session.hello"),
  deviceId: DeviceId,
  sessionId: z.string(),
  heartbeatSeconds: z.number().positive(),
  serverTime: z.number(),
  /** The version the server chose for this session (v2 and later; absent means v1). */
  protocol: z.int().optional(),
  /** The optional features both sides know, from those the worker announced. */
  features: z.array(FeatureName).max(32).optional(),
});
/** A parsed `SessionHelloMessage`. */
export type SessionHelloMessage = z.infer<typeof SessionHelloMessage>;

/** A refusal; `fatal` errors are followed by the server closing the socket. */
export const SessionErrorMessage = z.object({
  type: z.literal("session.error"),
  code: z.string(),
  message: z.string(),
  fatal: z.boolean(),
});
/** A parsed `SessionErrorMessage`. */
export type SessionErrorMessage = z.infer<typeof SessionErrorMessage>;

/**
 * Answer to heartbeats that asked for one (`ack: true`), to measure round trips and show the session is alive.
 * Acks asked for together are answered together: an ack for `seq` answers every earlier one that asked.
 */
export const HeartbeatAckMessage = z.object({
  type: z.literal("heartbeat.ack"),
  seq: z.int(),
  serverTime: z.number(),
});
/** A parsed `HeartbeatAckMessage`. */
export type HeartbeatAckMessage = z.infer<typeof HeartbeatAckMessage>;

/** An admin's fleet migration asks the device to rotate its key before `rotateBy`. */
export const KeyRotateRequestMessage = z.object({
  type: z.literal("key.rotate-request"),
  migrationId: z.string(),
  rotateBy: z.string(),
});
/** A parsed `KeyRotateRequestMessage`. */
export type KeyRotateRequestMessage = z.infer<typeof KeyRotateRequestMessage>;

/** The new key is registered; the old one keeps working until `oldKeyRetiresAt`. */
export const KeyRotatedMessage = z.object({
  type: z.literal("key.rotated"),
  keyId: DeviceKeyId,
  publicKey: Ed25519PublicKey,
  oldKeyRetiresAt: z.string(),
});
/** A parsed `KeyRotatedMessage`. */
export type KeyRotatedMessage = z.infer<typeof KeyRotatedMessage>;

/**
 * Something the device's owner should act on, shown in the worker's log (v2, feature `notices`): today the
 * worker is older than the server's minimum release and earns only until `earningUntil`.
 */
export const WorkerNoticeMessage = z.object({
  type: z.literal("worker.notice"),
  code: z.enum(["worker_outdated"]),
  message: z.string(),
  /** The command that fixes it. */
  updateCommand: z.string().optional(),
  /** When an outdated worker stops earning (ISO time); null once it already has. */
  earningUntil: z.string().nullable().optional(),
});
/** A parsed `WorkerNoticeMessage`. */
export type WorkerNoticeMessage = z.infer<typeof WorkerNoticeMessage>;

/**
 * A signed worker release this device should install (v2, feature `self-update`): download `url` from the
 * server with the device's credentials, check its SHA-256 and the release key's signature, install, restart.
 */
export const WorkerUpdateAvailableMessage = z.object({
  type: z.literal("worker.update-available"),
  rolloutId: z.string().max(64),
  version: WorkerVersion,
  /** Path of the package on the server, e.g. `/v1/worker/releases/0.2.0/package`. */
  url: z.string().startsWith("/").max(200),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Ed25519 signature (base64url) of the release signing text over the version and the SHA-256. */
  signature: z.string().max(200),
  size: z.int().min(1),
});
/** A parsed `WorkerUpdateAvailableMessage`. */
export type WorkerUpdateAvailableMessage = z.infer<typeof WorkerUpdateAvailableMessage>;

/** Every message the server sends to a worker, discriminated by `type`. */
export const ServerMessageSchema = z.discriminatedUnion("type", [
  SessionChallengeMessage,
  SessionHelloMessage,
  SessionErrorMessage,
  HeartbeatAckMessage,
  KeyRotateRequestMessage,
  KeyRotatedMessage,
  WorkerNoticeMessage,
  WorkerUpdateAvailableMessage,
  proofChallengeMessage,
  proofRevealRequestMessage,
  proofVerdictMessage,
  // JOB MESSAGES (server → worker): the marketplace's members (market-jobs.ts).
  JobStartMessage,
  JobStopMessage,
  // STREAM MESSAGES (server → worker): getting into a job (cluster-access.ts).
  StreamOpenMessage,
  StreamDataMessage,
  StreamAckMessage,
  StreamEofMessage,
  StreamCloseMessage,
  // LINK MESSAGES (server → worker): measuring the device's link to the control plane (link-probe.ts).
  LinkProbeMessage,
  LinkResultMessage,
]);
/** A message from the server to a worker. */
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

// ---- worker → server -------------------------------------------------------------------------------------

/** Answer to the challenge: which device, which of its keys, and the signature of `sessionSigningText`. */
export const SessionAuthMessage = z.strictObject({
  type: z.literal("session.auth"),
  deviceId: DeviceId,
  publicKey: Ed25519PublicKey,
  signature: Ed25519Signature,
  agent: z.strictObject({ version: z.string().max(40), profile: z.string().max(40) }).optional(),
  /** The protocol versions the worker speaks (v2 and later; a v1 worker sends none and is spoken to in v1). */
  protocol: ProtocolRange.optional(),
  /** The worker's release, e.g. `0.2.0`; the server compares it with IGNIS_MIN_WORKER_VERSION. */
  workerVersion: WorkerVersion.optional(),
  /** Optional capabilities the worker implements (worker-versions.ts WORKER_FEATURES); unknown names are ignored. */
  features: z.array(FeatureName).max(32).optional(),
});
/** A parsed `SessionAuthMessage`. */
export type SessionAuthMessage = z.infer<typeof SessionAuthMessage>;

/** Proof of life with load and hardware state. `deviceId`, when present, must be the session's own. */
export const HeartbeatMessage = z.strictObject({
  type: z.literal("heartbeat"),
  seq: z.int().min(0),
  deviceId: DeviceId.optional(),
  /** Ask the server for a `heartbeat.ack` (round-trip measurement). */
  ack: z.boolean().optional(),
  load: HeartbeatLoad,
});
/** A parsed `HeartbeatMessage`. */
export type HeartbeatMessage = z.infer<typeof HeartbeatMessage>;

/** The device's hardware changed; accepted only for the session's own device, within the claim's limits. */
export const MetadataUpdateMessage = z.strictObject({
  type: z.literal("metadata.update"),
  deviceId: DeviceId.optional(),
  hardware: HardwareClaim,
});
/** A parsed `MetadataUpdateMessage`. */
export type MetadataUpdateMessage = z.infer<typeof MetadataUpdateMessage>;

/** Rotate to `newPublicKey`: both the session's key and the new key sign `rotationSigningText`. */
export const KeyRotateMessage = z.strictObject({
  type: z.literal("key.rotate"),
  newPublicKey: Ed25519PublicKey,
  signatureOld: Ed25519Signature,
  signatureNew: Ed25519Signature,
});
/** A parsed `KeyRotateMessage`. */
export type KeyRotateMessage = z.infer<typeof KeyRotateMessage>;

/** Every message a worker sends to the server, discriminated by `type`. */
export const WorkerMessageSchema = z.discriminatedUnion("type", [
  SessionAuthMessage,
  HeartbeatMessage,
  MetadataUpdateMessage,
  KeyRotateMessage,
  proofCommitMessage,
  proofVramCommitMessage,
  proofRevealMessage,
  // JOB MESSAGES (worker → server): the marketplace's members (market-jobs.ts).
  JobLogMessage,
  JobStatusMessage,
  // STREAM MESSAGES (worker → server): getting into a job (cluster-access.ts).
  StreamOpenedMessage,
  StreamDataMessage,
  StreamAckMessage,
  StreamEofMessage,
  StreamCloseMessage,
  // The links a rank measured over its cluster's overlay (mesh.ts); sent only after a start order with `mesh`.
  MeshLinksMessage,
  // LINK MESSAGES (worker → server): measuring the device's link to the control plane (link-probe.ts).
  LinkMeasureMessage,
  LinkProbeAckMessage,
]);
/** A message from a worker to the server. */
export type WorkerMessage = z.infer<typeof WorkerMessageSchema>;

/**
 * Serializes a message into its frame at protocol `version`: the session's negotiated version, or v1 (every
 * session starts in v1 until its hello says otherwise, so frames of peers that never negotiate stay v1).
 */
export function encodeFrame(
  message: ServerMessage | WorkerMessage,
  version: number = WORKER_PROTOCOL_MIN_VERSION,
): string {
  return JSON.stringify({ v: version, ...message });
}

function decodeFrame<T>(
  raw: string,
  schema: z.ZodType<T>,
  hot?: (frame: Record<string, unknown>) => Record<string, unknown> | undefined,
): T {
  if (raw.length > MAX_WORKER_MESSAGE_BYTES) throw new IgnisError("payload_too_large", "frame too large");
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (cause) {
    throw new IgnisError("malformed_json", "the frame is not valid JSON", { cause });
  }
  if (typeof parsed !== "object" || parsed === null) {
    throw new IgnisError("bad_request", "a frame is a JSON object");
  }
  const version = (parsed as { v?: unknown }).v;
  if (!isSupportedProtocolVersion(version)) {
    if (typeof version === "number") throw protocolUnsupported(version);
    throw new IgnisError("bad_request", "a frame carries its protocol version as `v`");
  }
  delete (parsed as { v?: unknown }).v;
  // The hot frames are checked by hand (hot-frames.ts); whatever that check does not accept goes to the schema.
  const fast = hot?.(parsed as Record<string, unknown>);
  if (fast) return fast as T;
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const unknown = result.error.issues.some((i) => i.code === "unrecognized_keys");
    throw new IgnisError(
      unknown ? "unknown_field" : "validation_failed",
      "the frame does not match the protocol",
      {
        details: {
          errors: result.error.issues
            .slice(0, 5)
            .map((i) => ({ path: i.path.join("."), message: i.message })),
        },
      },
    );
  }
  return result.data;
}

/** Parses and validates a frame a worker sent; throws an IgnisError with a stable code when it is not valid. */
export function decodeWorkerFrame(raw: string): WorkerMessage {
  return decodeFrame(raw, WorkerMessageSchema, checkedHotFrame);
}

/** Parses and validates a frame the server sent. */
export function decodeServerFrame(raw: string): ServerMessage {
  return decodeFrame(raw, ServerMessageSchema);
}
