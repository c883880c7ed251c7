import { IgnisError, type KeyRotateMessage, type MetadataUpdateMessage } from "@ignis/protocol";
import { rotateDeviceKey } from "../devices/device-keys.js";
import { applyMetadataUpdate } from "../devices/metadata.js";
import type { SessionHub } from "./session-hub.js";
import type { WorkerSession } from "./worker-session.js";

/**
 * A metadata update over the device's own session: it may change only that device, only within the claim's
 * schema, at most a few times a minute; every accepted change is audited with the value it replaced.
 */
export async function handleMetadataUpdate(
  hub: SessionHub,
  session: WorkerSession,
  message: MetadataUpdateMessage,
): Promise<void> {
  const deviceId = session.info.deviceId;
  if (message.deviceId !== undefined && message.deviceId !== deviceId) {
    return session.crossDevice("device.metadata.update", message.deviceId);
  }
  if (!session.metadata.take(hub.now())) {
    session.send({
      type: "session.error",
      code: "rate_limited",
      message: "metadata updates are limited",
      fatal: false,
    });
    return;
  }
  try {
    const result = await applyMetadataUpdate(hub.db, deviceId, message.hardware);
    if (!result.changed) return;
    hub.audit({
      actorType: "device",
      actorId: deviceId,
      credentialId: session.keyId,
      action: "device.metadata.update",
      objectType: "device",
      objectId: deviceId,
      outcome: "ok",
      ip: session.ip,
      details: { before: result.before, after: message.hardware, verificationReset: result.gpuChanged },
    });
    if (result.gpuChanged) {
      hub.hardwareChanged(deviceId, {
        before: result.before ?? {},
        after: message.hardware,
        ip: session.ip,
        keyId: session.keyId,
      });
    }
  } catch (error) {
    hub.log.warn({ err: error, deviceId }, "metadata update failed");
    session.send({
      type: "session.error",
      code: "unavailable",
      message: "metadata not stored; retry",
      fatal: false,
    });
  }
}

/** An in-band key rotation signed by the session's key and the new key; the session continues on the new key. */
export async function handleKeyRotation(
  hub: SessionHub,
  session: WorkerSession,
  message: KeyRotateMessage,
): Promise<void> {
  const deviceId = session.info.deviceId;
  try {
    const rotated = await rotateDeviceKey(hub.db, {
      deviceId,
      nonce: session.nonce,
      oldKeyId: session.keyId,
      oldPublicKey: session.publicKey,
      newPublicKey: message.newPublicKey,
      signatureOld: message.signatureOld,
      signatureNew: message.signatureNew,
      overlapSeconds: hub.keyOverlapSeconds,
    });
    const oldKeyId = session.keyId;
    session.keyId = rotated.keyId;
    session.publicKey = message.newPublicKey;
    session.keyCreatedMs = hub.now();
    hub.audit({
      actorType: "device",
      actorId: deviceId,
      credentialId: oldKeyId,
      action: "device.key.rotate",
      objectType: "device",
      objectId: deviceId,
      outcome: "ok",
      ip: session.ip,
      details: { oldKeyId, newKeyId: rotated.keyId, oldKeyRetiresAt: rotated.oldKeyRetiresAt.toISOString() },
    });
    session.send({
      type: "key.rotated",
      keyId: rotated.keyId,
      publicKey: message.newPublicKey,
      oldKeyRetiresAt: rotated.oldKeyRetiresAt.toISOString(),
    });
  } catch (error) {
    const refusal =
      error instanceof IgnisError
        ? error
        : new IgnisError("key_rotation_failed", "the rotation was not stored");
    if (!(error instanceof IgnisError)) hub.log.warn({ err: error, deviceId }, "key rotation failed");
    hub.audit({
      actorType: "device",
      actorId: deviceId,
      credentialId: session.keyId,
      action: "device.key.rotate",
      objectType: "device",
      objectId: deviceId,
      outcome: `refused:${refusal.code}`,
      ip: session.ip,
      details: {},
    });
    session.send({ type: "session.error", code: refusal.code, message: refusal.message, fatal: false });
  }
}
