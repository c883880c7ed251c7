import type { CoarseRegion } from "@ignis/protocol";

const SOUTH_AMERICA =
  /^America\/(Argentina|Sao_Paulo|Bogota|Lima|Santiago|Caracas|Montevideo|Asuncion|La_Paz|Guayaquil|Cayenne|Paramaribo|Guyana|Belem|Fortaleza|Recife|Manaus|Cuiaba|Porto_Velho|Bahia|Campo_Grande|Noronha|Araguaina|Maceio|Santarem|Rio_Branco|Boa_Vista|Punta_Arenas)/;
const MIDDLE_EAST =
  /^Asia\/(Dubai|Riyadh|Qatar|Bahrain|Kuwait|Baghdad|Tehran|Jerusalem|Tel_Aviv|Amman|Beirut|Damascus|Muscat|Aden|Nicosia|Famagusta|Gaza|Hebron)/;

/**
 * A continent-level region from the machine's time zone: coarse on purpose (the explorer never shows more),
 * and available without any network lookup.
 */
export function regionFromTimeZone(timeZone: string | undefined): CoarseRegion {
  if (!timeZone) return "unknown";
  if (SOUTH_AMERICA.test(timeZone)) return "south-america";
  if (timeZone.startsWith("America/") || timeZone.startsWith("US/") || timeZone.startsWith("Canada/")) {
    return "north-america";
  }
  if (timeZone.startsWith("Europe/")) return "europe";
  if (MIDDLE_EAST.test(timeZone)) return "middle-east";
  if (timeZone.startsWith("Asia/")) return "asia-pacific";
  if (timeZone.startsWith("Africa/")) return "africa";
  if (timeZone.startsWith("Australia/") || timeZone.startsWith("Pacific/")) return "oceania";
  return "unknown";
}

/** This machine's coarse region. */
export function detectRegion(): CoarseRegion {
  return regionFromTimeZone(Intl.DateTimeFormat().resolvedOptions().timeZone);
}
