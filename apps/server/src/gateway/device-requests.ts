import { IgnisError, type KeyRotateMessage, type MetadataUpdateMessage } from "@ignis/protocol";
import { rotateDeviceKey } from "../devices/device-keys.js";
import { applyMetadataUpdate } from "../devices/metadata.js";
import { CloseCode } from "./close-codes.js";
import type { HubSession, SessionHub } from "./session-hub.js";

/**
 * A metadata update over the device's own session: it may change only that device, only within the claim's
 * schema, at most a few times a minute; every accepted change is audited with the value it replaced.
 */
export async function handleMetadataUpdate(
  hub: SessionHub,
  session: HubSession,
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

/** How long after a request's deadline its rotation is still taken (a worker that waited out its spread). */
const ROTATION_GRACE_MS = 60_000;

/**
 * An in-band key rotation: taken only when the server asked this session for one (a fleet migration or the
 * owner), signed by the session's key and the new key over this session's nonce, to a key no device uses. The
 * session continues on the new key. An unsolicited rotation raises an alert (a copied key trying to take the
 * device over for good); every refusal closes the session with its reason, is audited, and changes nothing.
 */
export async function handleKeyRotation(
  hub: SessionHub,
  session: HubSession,
  message: KeyRotateMessage,
): Promise<void> {
  const deviceId = session.info.deviceId;
  const asked = session.rotationAsked;
  if (!asked || hub.now() > asked.untilMs + ROTATION_GRACE_MS) {
    hub.incident({ kind: "unsolicited_rotation", deviceId, keyId: session.keyId, ip: session.ip });
    return refuseRotation(
      hub,
      session,
      new IgnisError(
        "key_rotation_failed",
        "no key rotation was asked of this session; keys rotate only on request",
        {
          details: { reason: "not_requested" },
        },
      ),
    );
  }
  try {
    const rotated = await rotateDeviceKey(
      hub.db,
      {
        deviceId,
        nonce: session.nonce,
        oldKeyId: session.keyId,
        oldPublicKey: session.publicKey,
        newPublicKey: message.newPublicKey,
        signatureOld: message.signatureOld,
        signatureNew: message.signatureNew,
        overlapSeconds: hub.keyOverlapSeconds,
      },
      new Date(hub.now()),
    );
    const oldKeyId = session.keyId;
    session.rotationAsked = undefined;
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
      details: {
        oldKeyId,
        newKeyId: rotated.keyId,
        requestId: asked.id,
        oldKeyRetiresAt: rotated.oldKeyRetiresAt.toISOString(),
      },
    });
    session.send({
      type: "key.rotated",
      keyId: rotated.keyId,
      publicKey: message.newPublicKey,
      oldKeyRetiresAt: rotated.oldKeyRetiresAt.toISOString(),
    });
  } catch (error) {
    if (error instanceof IgnisError) return refuseRotation(hub, session, error);
    hub.log.warn({ err: error, deviceId }, "key rotation failed");
    session.send({
      type: "session.error",
      code: "key_rotation_failed",
      message: "the rotation was not stored; retry",
      fatal: false,
    });
  }
}

/** Audits a refused rotation and closes the session with the reason; the device's keys are unchanged. */
function refuseRotation(hub: SessionHub, session: HubSession, refusal: IgnisError): void {
  hub.audit({
    actorType: "device",
    actorId: session.info.deviceId,
    credentialId: session.keyId,
    action: "device.key.rotate",
    objectType: "device",
    objectId: session.info.deviceId,
    outcome: `refused:${refusal.code}`,
    ip: session.ip,
    details: { sessionId: session.id, message: refusal.message, ...(refusal.details ?? {}) },
  });
  session.close(CloseCode.forbidden, refusal);
}
