import { type DeviceLinkView, effectiveTier } from "@ignis/protocol";
import type { Db } from "../db/database.js";

/** A link measurement the server made. */
export interface LinkMeasurement {
  rttMs: number;
  mbps: number;
  tier: number;
  measuredAt: Date;
}

/** Keeps a device's latest measurement, replacing the one before. The one writer of `device_links`. */
export async function recordLink(db: Db, deviceId: string, m: LinkMeasurement): Promise<void> {
  const row = {
    rtt_ms: Math.round(m.rttMs * 1000) / 1000,
    mbps: Math.round(m.mbps * 1000) / 1000,
    tier: m.tier,
    measured_at: m.measuredAt,
  };
  await db
    .insertInto("device_links")
    .values({ device_id: deviceId, ...row })
    .onConflict((oc) => oc.column("device_id").doUpdateSet(row))
    .execute();
}

/** A device's latest measurement, or null when it has none. */
export async function findLink(db: Db, deviceId: string): Promise<LinkMeasurement | null> {
  return (await linksOf(db, [deviceId])).get(deviceId) ?? null;
}

/** The latest measurements of some devices, by device id (devices never measured are absent). */
export async function linksOf(db: Db, deviceIds: readonly string[]): Promise<Map<string, LinkMeasurement>> {
  if (deviceIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("device_links")
    .select(["device_id", "rtt_ms", "mbps", "tier", "measured_at"])
    .where("device_id", "in", deviceIds)
    .execute();
  return new Map(
    rows.map((r) => [
      r.device_id,
      { rttMs: Number(r.rtt_ms), mbps: Number(r.mbps), tier: r.tier, measuredAt: new Date(r.measured_at) },
    ]),
  );
}

/** The owner's view of a measurement: its numbers with the tier that counts now (tier 1 once it is stale). */
export function linkView(m: LinkMeasurement | null, nowMs: number): DeviceLinkView | null {
  if (!m) return null;
  return {
    tier: effectiveTier(m, nowMs),
    rttMs: m.rttMs,
    mbps: m.mbps,
    measuredAt: m.measuredAt.toISOString(),
  };
}
