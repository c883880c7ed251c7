/** A share in [0, 1] as a percentage with one decimal. */
export function percent(share: number): string {
  return `${(share * 100).toFixed(share >= 0.999 || share === 0 ? 0 : 1)}%`;
}

/** A whole number with thousands separators. */
export function count(n: number): string {
  return new Intl.NumberFormat("en").format(n);
}

/**
 * Integer micro-units from the API (a decimal string) as credits, the one unit the app shows ("1,250.5 credits";
 * the same unit as the CLI), exact: no float ever touches money.
 */
export function credits(value: string | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const negative = value.startsWith("-");
  const digits = (negative ? value.slice(1) : value).padStart(7, "0");
  const whole = digits.slice(0, -6).replace(/^0+(?=\d)/, "");
  const fraction = digits.slice(-6).replace(/0+$/, "");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction ? `.${fraction}` : ""} credits`;
}

/** Micro-units as a number of credits, for charts only (never for display of exact amounts). */
export function creditsForChart(value: string): number {
  return Number(value) / 1_000_000;
}

/** A timestamp in the reader's locale. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** "in 4 min", "3 h ago": how far a time is from now. */
export function relative(iso: string, now = Date.now()): string {
  const diff = new Date(iso).getTime() - now;
  const abs = Math.abs(diff);
  const units: [number, Intl.RelativeTimeFormatUnit][] = [
    [86_400_000, "day"],
    [3_600_000, "hour"],
    [60_000, "minute"],
    [1000, "second"],
  ];
  const fmt = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
  for (const [ms, unit] of units)
    if (abs >= ms || unit === "second") return fmt.format(Math.round(diff / ms), unit);
  return iso;
}

/** A long id or hash shortened for tables: head…tail. */
export function shortId(id: string, head = 10, tail = 6): string {
  return id.length <= head + tail + 1 ? id : `${id.slice(0, head)}…${id.slice(-tail)}`;
}

/** A device's coarse location as one phrase: `DE (europe)`, `DE (europe, declared)` or `europe`. */
export function locationText(location: { country: string | null; region: string; source: string }): string {
  if (!location.country) return location.region;
  return location.source === "declared"
    ? `${location.country} (${location.region}, declared)`
    : `${location.country} (${location.region})`;
}

/** A device's claimed memory and whether a passed memory check proved it: `80 GB claimed, proven`. */
export function memoryText(memory: { claimedMiB: number; proven: boolean } | undefined): string {
  if (!memory) return "—";
  const gb = memory.claimedMiB / 1024;
  const size = Number.isInteger(gb) ? `${count(gb)} GB` : `${count(memory.claimedMiB)} MiB`;
  return `${size} claimed, ${memory.proven ? "proven" : "not proven"}`;
}

/** Credits typed by a person (`1.5`, up to six decimals) as the API's integer micro-units; undefined if not one. */
export function microUnitsOf(creditsText: string): string | undefined {
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(creditsText.trim());
  if (!m) return undefined;
  const micro = `${m[1]}${(m[2] ?? "").padEnd(6, "0")}`.replace(/^0+(?=\d)/, "");
  return micro;
}
