import type { WorkerMessage } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import type { Metrics } from "../observability/metrics.js";
import type { AuditEntry } from "../security/audit-log.js";
import type { UptimeTracker } from "../uptime/uptime-tracker.js";
import type { AuthenticatedDevice } from "./handshake.js";
import type { WorkerSession } from "./worker-session.js";

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
  readonly log: GatewayLog;
  readonly metrics: Metrics | undefined;
  readonly uptime: UptimeTracker;
  readonly heartbeatSeconds: number;
  readonly keyOverlapSeconds: number;
  /** Running totals for metrics, benches and tests. */
  readonly counters: { heartbeats: number; throttled: number; crossDevice: number };
  /** The origins the server answers to; the worker's signature must cover one of them. */
  readonly origins: readonly string[];
  now(): number;
  /** Binds an authenticated session to its device: replaces an older session, marks the device online. */
  register(session: WorkerSession, device: AuthenticatedDevice): Promise<void>;
  /** Forgets a closed session. */
  unregister(session: WorkerSession): void;
  /** Hands a message to the handlers other modules registered for its type. */
  dispatch(session: WorkerSession, message: WorkerMessage): void;
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
