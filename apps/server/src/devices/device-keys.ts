import { IgnisError, rotationSigningText } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { newId } from "../db/new-id.js";
import { verifyEd25519 } from "./ed25519.js";

/** A key that may open a session now. */
export interface UsableKey {
  id: string;
  createdAt: Date;
  state: "active" | "retiring";
  retireAt: Date | null;
}

/**
 * Whether a device key row (the handshake reads it with its device) may open a session now: `active`, or
 * `retiring` within its overlap window. A retiring key past its window is marked retired here (lazily) and
 * refused.
 */
export async function usableKey(
  db: Db,
  row: {
    id: string;
    state: UsableKey["state"] | "retired";
    createdAt: Date;
    retireAt: Date | null;
    now: Date;
  },
): Promise<UsableKey | undefined> {
  if (row.state === "retired") return undefined;
  if (row.state === "retiring" && row.retireAt && row.retireAt <= row.now) {
    await db
      .updateTable("device_keys")
      .set({ state: "retired", retired_at: row.now })
      .where("id", "=", row.id)
      .where("state", "=", "retiring")
      .execute();
    return undefined;
  }
  return { id: row.id, createdAt: row.createdAt, state: row.state, retireAt: row.retireAt };
}

/** What a rotation needs: the session's current key, the new key and both signatures over the session nonce. */
export interface RotationRequest {
  deviceId: string;
  nonce: string;
  oldKeyId: string;
  oldPublicKey: string;
  newPublicKey: string;
  signatureOld: string;
  signatureNew: string;
  overlapSeconds: number;
}

/**
 * Rotates a device to a new key in-band. Both keys must sign the rotation text; the new key becomes active and
 * the old one keeps working until the end of the overlap window, so a worker that crashes before saving the new
 * key, or loses the acknowledgement, still gets back in.
 */
export async function rotateDeviceKey(
  db: Db,
  request: RotationRequest,
  now = new Date(),
): Promise<{ keyId: string; oldKeyRetiresAt: Date }> {
  const text = rotationSigningText(
    request.nonce,
    request.deviceId,
    request.oldPublicKey,
    request.newPublicKey,
  );
  if (!verifyEd25519(request.oldPublicKey, text, request.signatureOld)) {
    throw new IgnisError("key_rotation_failed", "the rotation is not signed by the session's key");
  }
  if (!verifyEd25519(request.newPublicKey, text, request.signatureNew)) {
    throw new IgnisError("key_rotation_failed", "the rotation is not signed by the new key");
  }
  const keyId = newId("dk");
  const overlapEnd = new Date(now.getTime() + request.overlapSeconds * 1000);
  return db.transaction().execute(async (trx) => {
    const taken = await trx
      .selectFrom("device_keys")
      .select("id")
      .where("public_key", "=", request.newPublicKey)
      .executeTakeFirst();
    if (taken)
      throw new IgnisError("key_rotation_failed", "the new public key is already registered to a device");
    const old = await trx
      .updateTable("device_keys")
      .set({ state: "retiring", retire_at: overlapEnd })
      .where("id", "=", request.oldKeyId)
      .where("device_id", "=", request.deviceId)
      .where("state", "in", ["active", "retiring"])
      .returning(["retire_at"])
      .executeTakeFirst();
    if (!old) throw new IgnisError("key_rotation_failed", "the session's key is no longer usable");
    await trx
      .insertInto("device_keys")
      .values({
        id: keyId,
        device_id: request.deviceId,
        public_key: request.newPublicKey,
        state: "active",
        created_at: now,
      })
      .execute();
    // The owner's request, if any, is answered.
    await trx
      .updateTable("devices")
      .set({ rotation_requested_at: null })
      .where("id", "=", request.deviceId)
      .execute();
    return { keyId, oldKeyRetiresAt: overlapEnd };
  });
}

/** Retires every key of a device at once (revocation). */
export async function retireAllKeys(db: Db, deviceId: string, now = new Date()): Promise<void> {
  await db
    .updateTable("device_keys")
    .set({ state: "retired", retired_at: now })
    .where("device_id", "=", deviceId)
    .where("state", "!=", "retired")
    .execute();
}
