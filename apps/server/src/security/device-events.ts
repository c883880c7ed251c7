import type { Db } from "../db/database.js";
import { appendAudit } from "./audit-log.js";

/** A state-changing worker message or device event, as the gateway and device domain report it. */
export interface DeviceEvent {
  deviceId: string;
  /** The device key that signed the session or the message. */
  keyId?: string | null;
  /** What happened, dotted like HTTP actions: `device.enroll`, `device.hardware.update`, `device.key.rotate`. */
  action: string;
  /** Defaults to the device itself. */
  objectType?: string;
  objectId?: string;
  /** `ok` (default), or `refused:<code>` / `failed:<code>`. */
  outcome?: string;
  /** The worker session id, standing in for a request id. */
  sessionId?: string | null;
  ip?: string | null;
  /** Facts an admin needs to understand or revert the change (old and new values). */
  details?: Record<string, unknown>;
}

/**
 * Audits one device event into the hash-chained log, with the device as actor. Worker messages never pass
 * through the HTTP pipeline, so the gateway calls this for every message that changes state.
 */
export async function auditDeviceEvent(db: Db, event: DeviceEvent): Promise<void> {
  await appendAudit(db, {
    actorType: "device",
    actorId: event.deviceId,
    credentialId: event.keyId ?? null,
    action: event.action,
    objectType: event.objectType ?? "device",
    objectId: event.objectId ?? event.deviceId,
    outcome: event.outcome ?? "ok",
    requestId: event.sessionId ?? null,
    ip: event.ip ?? null,
    details: event.details ?? {},
  });
}
