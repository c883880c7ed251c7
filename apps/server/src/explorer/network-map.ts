import type { ExplorerMap, MapRegion } from "@ignis/protocol";
import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { GEOIP_ATTRIBUTION } from "../geo/ip-country.js";
import { deviceLocation } from "./device-location.js";
import { HIDDEN_STATUSES } from "./public-device.js";

/** Statuses that mean "connected right now" (as in the stats route). */
const CONNECTED = ["online", "hired"];

/**
 * The network map: devices shown by the explorer, grouped by the country their public location names (devices
 * of unknown country by the continent their worker reported). Counted over the same devices as the stats route,
 * so the map's online devices and GPUs add up to its `devicesOnline` and `gpusTotal`.
 */
export async function computeNetworkMap(db: Db, now: number): Promise<ExplorerMap> {
  const groups = await db
    .selectFrom("devices")
    .select([
      "geo_country",
      "declared_country",
      "region",
      "gpu_model",
      sql<string>`count(*) filter (where status in (${sql.join(CONNECTED)}))`.as("online"),
      sql<string>`sum(gpu_count)`.as("gpus"),
    ])
    .where("status", "not in", HIDDEN_STATUSES)
    .groupBy(["geo_country", "declared_country", "region", "gpu_model"])
    .execute();

  const places = new Map<string, MapRegion>();
  for (const g of groups) {
    const location = deviceLocation(g);
    const key = `${location.country ?? ""}\u0000${location.region}`;
    const place = places.get(key) ?? {
      country: location.country,
      region: location.region,
      devicesOnline: 0,
      gpus: {},
    };
    place.devicesOnline += Number(g.online);
    place.gpus[g.gpu_model] = (place.gpus[g.gpu_model] ?? 0) + Number(g.gpus);
    places.set(key, place);
  }
  const regions = [...places.values()].sort(
    (a, b) =>
      b.devicesOnline - a.devicesOnline ||
      (a.country ?? "~").localeCompare(b.country ?? "~") ||
      a.region.localeCompare(b.region),
  );
  return { regions, attribution: { ...GEOIP_ATTRIBUTION }, generatedAt: new Date(now).toISOString() };
}
