import { IgnisError, isIgnisError, sessionSigningText } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { findUsableKey } from "../devices/device-keys.js";
import { verifyEd25519 } from "../devices/ed25519.js";
import { type KeyMigration, migrationStateOfKey } from "../devices/key-migrations.js";
import type { DeviceStatus } from "../devices/status.js";
import type { RefusedHandshake, SessionHub } from "./session-hub.js";

/** What a worker's `session.auth` claims. */
export interface SessionAuth {
  deviceId: string;
  publicKey: string;
  signature: string;
}

/** A verified session opener: the device, the key it used, and a migration asking that key to rotate. */
export interface AuthenticatedDevice {
  deviceId: string;
  status: DeviceStatus;
  keyId: string;
  keyCreatedAt: Date;
  publicKey: string;
  rotateFor: KeyMigration | undefined;
}

/**
 * Checks a session opener against the registered keys: the device exists and is not revoked, the key is one
 * of its usable keys, the signature covers this session's fresh nonce and one of the server's own origins, and
 * no expired fleet migration has retired the key. Every failure is the same `handshake_failed` to the worker
 * except revocation, which it must know to stop retrying.
 */
export async function authenticateSession(
  db: Db,
  auth: SessionAuth,
  context: { nonce: string; origins: readonly string[]; now?: Date },
): Promise<AuthenticatedDevice> {
  const now = context.now ?? new Date();
  const device = await db
    .selectFrom("devices")
    .select(["id", "status"])
    .where("id", "=", auth.deviceId)
    .executeTakeFirst();
  if (!device) throw new IgnisError("handshake_failed", "unknown device or key");
  if (device.status === "revoked") throw new IgnisError("device_revoked", "this device has been revoked");
  const key = await findUsableKey(db, auth.deviceId, auth.publicKey, now);
  if (!key) throw new IgnisError("handshake_failed", "unknown device or key", { details: { reason: "key" } });
  const signed = context.origins.some((origin) =>
    verifyEd25519(auth.publicKey, sessionSigningText(context.nonce, auth.deviceId, origin), auth.signature),
  );
  if (!signed) {
    throw new IgnisError("invalid_signature", "the session signature does not match this session", {
      details: { reason: "signature" },
    });
  }
  const migration = await migrationStateOfKey(db, key.createdAt, now);
  if (migration.kind === "expired") {
    throw new IgnisError("handshake_failed", "this key was retired by a fleet key migration; re-enroll", {
      details: { reason: "migration", migrationId: migration.migration.id },
    });
  }
  return {
    deviceId: device.id,
    status: device.status,
    keyId: key.id,
    keyCreatedAt: key.createdAt,
    publicKey: auth.publicKey,
    rotateFor: migration.kind === "rotate" ? migration.migration : undefined,
  };
}

/** The monitor's name for each refusal a worker can be given. */
const REFUSAL_REASONS: Record<string, RefusedHandshake["reason"]> = {
  device_revoked: "revoked_device",
  invalid_signature: "bad_signature",
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
  const refusal = isIgnisError(error) ? error : new IgnisError("handshake_failed", "could not authenticate");
  if (!isIgnisError(error)) hub.log.error({ err: error }, "worker handshake failed unexpectedly");
  hub.refusedHandshake({
    deviceId,
    ip: session.ip,
    reason: REFUSAL_REASONS[refusal.code] ?? "unknown_device",
  });
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
