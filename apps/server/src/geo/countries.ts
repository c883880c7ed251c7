import type { CoarseRegion } from "@ignis/protocol";
import { IgnisError } from "@ignis/protocol";
import { countries } from "countries-list";

// Countries that the explorer groups as the Middle East (countries-list files them under Asia, and Turkey under
// Asia too); everything else follows its continent.
const MIDDLE_EAST = new Set([
  "AE",
  "BH",
  "IL",
  "IQ",
  "IR",
  "JO",
  "KW",
  "LB",
  "OM",
  "PS",
  "QA",
  "SA",
  "SY",
  "TR",
  "YE",
]);

const BY_CONTINENT: Record<string, CoarseRegion> = {
  NA: "north-america",
  SA: "south-america",
  EU: "europe",
  AS: "asia-pacific",
  AF: "africa",
  OC: "oceania",
};

/** True for an ISO 3166-1 alpha-2 code of a country (or territory) that countries-list knows. */
export function isCountryCode(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && Object.hasOwn(countries, code);
}

/** The continent-level region of an ISO 3166-1 alpha-2 country code; `unknown` for codes it does not know. */
export function regionOfCountry(code: string): CoarseRegion {
  if (!isCountryCode(code)) return "unknown";
  if (MIDDLE_EAST.has(code)) return "middle-east";
  return BY_CONTINENT[countries[code as keyof typeof countries].continent] ?? "unknown";
}

/**
 * A country as a caller typed it (`de`, ` DE `), checked: its ISO alpha-2 code, or a 400 `invalid_country` that
 * names what was wrong. `null` stays null (a declaration withdrawn).
 */
export function countryInput(raw: string | null, field = "country"): string | null {
  if (raw === null) return null;
  const code = raw.trim().toUpperCase();
  if (!isCountryCode(code)) {
    throw new IgnisError(
      "invalid_country",
      `${field}: expected an ISO 3166-1 alpha-2 country code such as DE`,
      {
        details: { field },
      },
    );
  }
  return code;
}
