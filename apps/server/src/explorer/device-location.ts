import type { DeviceLocation } from "@ignis/protocol";
import { regionOfCountry } from "../geo/countries.js";
import { coarseRegion } from "./coarse-region.js";

/** The columns a device's location is derived from. */
export interface LocationColumns {
  geo_country: string | null;
  declared_country: string | null;
  /** The continent-level region the worker reported. */
  region: string;
}

/**
 * One location for every view. The session's address wins, as it is harder to fake than a declaration; the owner's
 * declared country counts only where the address does not locate the device (private, loopback, unlisted). With
 * neither, the country is unknown and the region is the continent the worker reported.
 */
export function deviceLocation(row: LocationColumns): DeviceLocation {
  if (row.geo_country) {
    return { country: row.geo_country, region: regionOfCountry(row.geo_country), source: "geoip" };
  }
  if (row.declared_country) {
    return {
      country: row.declared_country,
      region: regionOfCountry(row.declared_country),
      source: "declared",
    };
  }
  return { country: null, region: coarseRegion(row.region), source: "unknown" };
}
