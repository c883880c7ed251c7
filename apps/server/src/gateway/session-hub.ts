import type { IgnisError, ServerMessage, WorkerMessage } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import type { KeyMigration } from "../devices/key-migrations.js";
import type { DeviceStatus } from "../devices/status.js";
import type { Metrics } from "../observability/metrics.js";
import type { AuditEntry } from "../security/audit-log.js";
import type { UptimeTracker } from "../uptime/uptime-tracker.js";
import type { HandshakeReader } from "./handshake.js";
import type { HeartbeatAcks } from "./heartbeat-acks.js";

/** A minimal structured logger (pino's shape). */
export interface GatewayLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What a session needs from the gateway that owns it: settings, storage and the registry of live sessions. */
export interface SessionHub {
  readonly db: Db;
  /** The handshake's device and key reads, coalesced with the other openers of the moment. */
  readonly handshakes: HandshakeReader;
  readonly log: GatewayLog;
  readonly metrics: Metrics | undefined;
  readonly uptime: UptimeTracker;
  readonly heartbeatSeconds: number;
  readonly keyOverlapSeconds: number;
  /** Running totals for metrics, benches and tests. */
  readonly counters: { heartbeats: number; throttled: number; crossDevice: number };
  /** Acknowledgements asked within this turn of the event loop, sent once per session at its end. */
  readonly acks: HeartbeatAcks;
  /** The origins the server answers to; the worker's signature must cover one of them. */
  readonly origins: readonly string[];
  now(): number;
  /** Binds an authenticated session to its device: replaces an older session, marks the device online. */
  register(session: HubSession, device: AuthenticatedDevice): Promise<void>;
  /** Forgets a closed session. */
  unregister(session: HubSession): void;
  /** Hands a message to the handlers other modules registered for its type. */
  dispatch(session: HubSession, message: WorkerMessage): void;
  /** Tells other modules that the device's GPU claim changed (its verification was reset). */
  hardwareChanged(deviceId: string, change: HardwareChange): void;
  /** Appends an audit record without holding up the session; failures are logged. */
  audit(entry: AuditEntry): void;
  /** Tells the security monitor that a device's key looks copied (it raises an alert). */
  incident(incident: DeviceIncident): void;
  /** Tells the security monitor about a refused handshake (unknown device or key, revoked device, bad signature). */
  refusedHandshake(attempt: RefusedHandshake): void;
  /** Counts a failed handshake from an address; false when the address is over its failure budget. */
  noteFailedHandshake(ip: string): Promise<boolean>;
}

/**
 * Signs that a device's key is held by someone else: two live sessions answered with it (both peer addresses,
 * older first), or a session rotated without being asked.
 */
export type DeviceIncident =
  | { kind: "duplicate_session"; deviceId: string; keyId: string; peers: [string, string] }
  | { kind: "unsolicited_rotation"; deviceId: string; keyId: string; ip: string };

/** A refused handshake as the security monitor's handshake rule counts it. */
export interface RefusedHandshake {
  deviceId: string | null;
  ip: string;
  reason: "unknown_device" | "revoked_device" | "bad_signature";
}

/** A device's GPU claim as it was and as it now is, with the session it came over. */
export interface HardwareChange {
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  ip: string;
  keyId: string;
}

/** A verified session opener: the device, the key it used, and a migration asking that key to rotate. */
export interface AuthenticatedDevice {
  deviceId: string;
  status: DeviceStatus;
  keyId: string;
  keyCreatedAt: Date;
  publicKey: string;
  rotateFor: KeyMigration | undefined;
  /** A rotation the owner asked for after this key was made, still owed. */
  rotationRequestedAt: Date | null;
  /** Since when the device's worker has been below the minimum release (devices/worker-version.ts), or null. */
  outdatedSince: Date | null;
}

/** Where a session is in its life: challenged, verifying its opener, live (bound to a device) or closed. */
export type SessionPhase = "challenged" | "verifying" | "live" | "closed";

/**
 * The part of a session other modules see: its device, its latest round-trip time, and what its handshake
 * negotiated. Gate a new server frame on `supports(feature)` (and list it in FRAME_FEATURES, which the session
 * enforces on every send, on whichever replica holds the device).
 */
export interface SessionInfo {
  deviceId: string;
  rttMs: number;
  /** The protocol version negotiated in the handshake (1 before it, and for v1 workers). */
  protocolVersion: number;
  /** The worker release the opener announced; null for v1 workers, which announce none. */
  workerVersion: string | null;
  /** The optional features negotiated in the handshake (always empty for v1 sessions). */
  features: ReadonlySet<string>;
  /** True when the session negotiated `feature`. */
  supports(feature: string): boolean;
}

/**
 * A worker session as the hub, the request handlers and the liveness sweep use it (worker-session.ts is the
 * one implementation), so that none of them depends on the session class.
 */
export interface HubSession {
  readonly id: string;
  readonly ip: string;
  readonly nonce: string;
  readonly info: SessionInfo;
  readonly phase: SessionPhase;
  keyId: string;
  publicKey: string;
  keyCreatedMs: number;
  lastHeartbeatMs: number;
  markedOffline: boolean;
  /** Heartbeats after this time earn no up-minute (an outdated worker past its grace period). */
  earningUntilMs: number;
  /** The rotation the server asked this session for (a fleet migration, the owner, the age policy). */
  rotationAsked: { id: string; untilMs: number } | undefined;
  /** The session's budget of metadata updates. */
  readonly metadata: { take(nowMs: number): boolean };
  /** Sends a message if the socket is open; false when it is not. */
  send(message: ServerMessage): boolean;
  /** Sends an error and closes the socket with a code the worker acts on. */
  close(code: number, error: IgnisError): void;
  /** Measures the round trip with a WebSocket ping. */
  ping(): void;
  /** Pings the peer: true when it answers within `timeoutMs`. */
  probe(timeoutMs: number): Promise<boolean>;
  /** Binds the authenticated session to its device. */
  activate(): void;
  /** Refuses, audits and closes a message naming another device. */
  crossDevice(action: string, named: string): void;
}
