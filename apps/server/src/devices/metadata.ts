import { canonicalJson, type HardwareClaim } from "@ignis/protocol";
import type { Db } from "../db/database.js";

/**
 * Applies a metadata update that arrived over the device's own session, to that device only. A changed GPU
 * claim (model, count or memory) resets verification: a proof made for one GPU says nothing about another.
 * Returns what changed, for the audit record.
 */
export async function applyMetadataUpdate(
  db: Db,
  deviceId: string,
  hardware: HardwareClaim,
  now = new Date(),
): Promise<{ changed: boolean; gpuChanged: boolean; before: Record<string, unknown> | undefined }> {
  return db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom("devices")
      .select(["hardware", "gpu_model", "gpu_count", "vram_gb", "gpu_vendor", "status"])
      .where("id", "=", deviceId)
      .forUpdate()
      .executeTakeFirst();
    if (!current || current.status === "revoked")
      return { changed: false, gpuChanged: false, before: undefined };
    const gpuChanged =
      current.gpu_vendor !== hardware.gpu.vendor ||
      current.gpu_model !== hardware.gpu.model ||
      current.gpu_count !== hardware.gpu.count ||
      current.vram_gb !== hardware.gpu.vramGb;
    const changed = gpuChanged || canonicalJson(current.hardware) !== canonicalJson(hardware);
    if (!changed) return { changed, gpuChanged, before: current.hardware };
    await trx
      .updateTable("devices")
      .set({
        profile: hardware.profile,
        gpu_vendor: hardware.gpu.vendor,
        gpu_model: hardware.gpu.model,
        gpu_count: hardware.gpu.count,
        vram_gb: hardware.gpu.vramGb,
        region: hardware.region,
        hardware: JSON.stringify(hardware),
        hardware_changed_at: now,
        ...(gpuChanged ? { verification: "unverified" as const, verified_at: null } : {}),
      })
      .where("id", "=", deviceId)
      .execute();
    return { changed, gpuChanged, before: current.hardware };
  });
}
