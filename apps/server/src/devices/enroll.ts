import { type EnrollBody, enrollmentSigningText, IgnisError } from "@ignis/protocol";
import type { Db } from "../db/database.js";
import { inTransaction } from "../db/in-transaction.js";
import { newId } from "../db/new-id.js";
import { verifyEd25519 } from "./ed25519.js";
import { consumeEnrollmentCode } from "./enrollment-code.js";

/** A device just enrolled: its id, its first key and its owner (the code's user). */
export interface EnrolledDevice {
  deviceId: string;
  keyId: string;
  ownerId: string;
}

/**
 * Enrolls a device: checks that the new key signed (code, key, claim), spends the code and records the device
 * (status `pending`) with its first key, all in one transaction. A bad signature does not burn the code.
 */
export async function enrollDevice(db: Db, body: EnrollBody, now = new Date()): Promise<EnrolledDevice> {
  const text = enrollmentSigningText(body.code, body.publicKey, body.hardware);
  if (!verifyEd25519(body.publicKey, text, body.signature)) {
    throw new IgnisError("invalid_signature", "the enrollment signature does not match the public key");
  }
  const deviceId = newId("dev");
  const keyId = newId("dk");
  const hw = body.hardware;
  return inTransaction(db, async (trx) => {
    const taken = await trx
      .selectFrom("device_keys")
      .select("id")
      .where("public_key", "=", body.publicKey)
      .executeTakeFirst();
    if (taken) throw new IgnisError("conflict", "this public key is already registered; make a new key");
    const ownerId = await consumeEnrollmentCode(trx, body.code, deviceId, now);
    await trx
      .insertInto("devices")
      .values({
        id: deviceId,
        owner_id: ownerId,
        label: null,
        profile: hw.profile,
        gpu_vendor: hw.gpu.vendor,
        gpu_model: hw.gpu.model,
        gpu_count: hw.gpu.count,
        vram_gb: hw.gpu.vramGb,
        region: hw.region,
        hardware: JSON.stringify(hw),
        created_at: now,
      })
      .execute();
    await trx
      .insertInto("device_keys")
      .values({
        id: keyId,
        device_id: deviceId,
        public_key: body.publicKey,
        state: "active",
        created_at: now,
      })
      .execute();
    return { deviceId, keyId, ownerId };
  });
}
