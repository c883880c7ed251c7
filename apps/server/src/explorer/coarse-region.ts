import type { CoarseRegion } from "@ignis/protocol";

// First token of a region string (cloud-style "us-east-1", ISO country "DE", time zone "Europe/Berlin") mapped
// to a continent. Anything unrecognised becomes "unknown": the explorer never shows a finer location.
const BY_TOKEN: Record<string, CoarseRegion> = {
  us: "north-america",
  usa: "north-america",
  ca: "north-america",
  mx: "north-america",
  na: "north-america",
  "north-america": "north-america",
  northamerica: "north-america",
  america: "north-america",
  sa: "south-america",
  br: "south-america",
  ar: "south-america",
  cl: "south-america",
  co: "south-america",
  "south-america": "south-america",
  southamerica: "south-america",
  eu: "europe",
  europe: "europe",
  uk: "europe",
  gb: "europe",
  de: "europe",
  fr: "europe",
  nl: "europe",
  se: "europe",
  fi: "europe",
  no: "europe",
  pl: "europe",
  es: "europe",
  it: "europe",
  ch: "europe",
  ie: "europe",
  ap: "asia-pacific",
  apac: "asia-pacific",
  asia: "asia-pacific",
  "asia-pacific": "asia-pacific",
  jp: "asia-pacific",
  kr: "asia-pacific",
  cn: "asia-pacific",
  hk: "asia-pacific",
  tw: "asia-pacific",
  sg: "asia-pacific",
  in: "asia-pacific",
  id: "asia-pacific",
  me: "middle-east",
  "middle-east": "middle-east",
  ae: "middle-east",
  il: "middle-east",
  af: "africa",
  africa: "africa",
  za: "africa",
  ng: "africa",
  ke: "africa",
  eg: "africa",
  au: "oceania",
  nz: "oceania",
  oc: "oceania",
  oceania: "oceania",
  australia: "oceania",
  pacific: "oceania",
};

const MULTI_WORD = ["north-america", "south-america", "asia-pacific", "middle-east"] as const;

/** Reduces whatever region a device reported to a continent, so no public view can locate a machine. */
export function coarseRegion(raw: string | null | undefined): CoarseRegion {
  const value = (raw ?? "").trim().toLowerCase();
  if (!value) return "unknown";
  for (const name of MULTI_WORD) if (value.startsWith(name)) return name;
  const token = value.split(/[-/_\s.:]+/, 1)[0] ?? "";
  return Object.hasOwn(BY_TOKEN, token) ? BY_TOKEN[token]! : "unknown";
}
