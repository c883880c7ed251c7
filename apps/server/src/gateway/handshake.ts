import { IgnisError, isIgnisError, sessionSigningText } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { findUsableKey } from "../devices/device-keys.js";
import { verifyEd25519 } from "../devices/ed25519.js";
import { migrationStateOfKey } from "../devices/key-migrations.js";
import type { AuthenticatedDevice, RefusedHandshake, SessionHub } from "./session-hub.js";

/** What a worker's `session.auth` claims. */
export interface SessionAuth {
  deviceId: string;
  publicKey: string;
  signature: string;
}

/** The one answer every refused opener gets: unknown, revoked and wrong-key devices are told the same thing. */
export function handshakeRefusal(reason: string, details: Record<string, unknown> = {}): IgnisError {
  return new IgnisError("handshake_failed", "the device could not be authenticated", {
    details: { reason, ...details },
  });
}

/**
 * Checks a session opener against the registered keys: the device exists and is not revoked, the key is one
 * of its usable keys, the signature covers this session's fresh nonce and one of the server's own origins, and
 * no expired fleet migration has retired the key. Every failure is the same `handshake_failed` with the same
 * message (the reason goes to the audit log only), so answers say nothing about which devices exist or were
 * revoked. A device in `conflict` is refused with `device_conflict`, but only once the signature proves the
 * caller holds its key.
 */
export async function authenticateSession(
  db: Db,
  auth: SessionAuth,
  context: { nonce: string; origins: readonly string[]; now?: Date },
): Promise<AuthenticatedDevice> {
  const now = context.now ?? new Date();
  const device = await db
    .selectFrom("devices")
    .select(["id", "status", "rotation_requested_at"])
    .where("id", "=", auth.deviceId)
    .executeTakeFirst();
  const key = device ? await findUsableKey(db, auth.deviceId, auth.publicKey, now) : undefined;
  // Verified whatever the outcome, so an unknown device costs the same time as a known one.
  const signed = context.origins.some((origin) =>
    verifyEd25519(auth.publicKey, sessionSigningText(context.nonce, auth.deviceId, origin), auth.signature),
  );
  if (!device) throw handshakeRefusal("unknown_device");
  if (device.status === "revoked") throw handshakeRefusal("revoked_device");
  if (!key) throw handshakeRefusal("unknown_key");
  if (!signed) throw handshakeRefusal("bad_signature");
  const migration = await migrationStateOfKey(db, key.createdAt, now);
  if (migration.kind === "expired") {
    throw handshakeRefusal("migration_expired", { migrationId: migration.migration.id });
  }
  if (device.status === "conflict") {
    throw new IgnisError(
      "device_conflict",
      "another machine is using this device's key; the owner must resolve the conflict (keep one machine, or revoke and re-enroll)",
    );
  }
  return {
    deviceId: device.id,
    status: device.status,
    keyId: key.id,
    keyCreatedAt: key.createdAt,
    publicKey: auth.publicKey,
    rotateFor: migration.kind === "rotate" ? migration.migration : undefined,
    rotationRequestedAt:
      device.rotation_requested_at && device.rotation_requested_at > key.createdAt
        ? device.rotation_requested_at
        : null,
  };
}

/** The monitor's name for each refusal reason; other reasons (a conflict, a retired key) are not guesses. */
const MONITORED_REASONS: Record<string, RefusedHandshake["reason"]> = {
  unknown_device: "unknown_device",
  unknown_key: "unknown_device",
  revoked_device: "revoked_device",
  bad_signature: "bad_signature",
};

/**
 * Reports a refused session opener: to the security monitor always, and to the audit log while the address is
 * within its failed-authentication budget (so a flood of guesses cannot flood the log). Returns the refusal to
 * send the worker; an unexpected error becomes a plain `handshake_failed` and is logged.
 */
export async function reportRefusedHandshake(
  hub: SessionHub,
  session: { id: string; ip: string },
  deviceId: string,
  error: unknown,
): Promise<IgnisError> {
  const refusal = isIgnisError(error) ? error : handshakeRefusal("internal");
  if (!isIgnisError(error)) hub.log.error({ err: error }, "worker handshake failed unexpectedly");
  const monitored = MONITORED_REASONS[String(refusal.details?.reason)];
  if (monitored) hub.refusedHandshake({ deviceId, ip: session.ip, reason: monitored });
  if (await hub.noteFailedHandshake(session.ip)) {
    hub.audit({
      actorType: "anonymous",
      action: "device.session.open",
      objectType: "device",
      objectId: deviceId,
      outcome: `refused:${refusal.code}`,
      ip: session.ip,
      details: { sessionId: session.id, ...(refusal.details ?? {}) },
    });
  }
  return refusal;
}
