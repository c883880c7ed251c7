/** Statuses that mean "not now, come back later": the request was not served and may be sent again. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** The longest wait a Retry-After may ask for before it is capped (a server clock far off must not stall us). */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * The wait a `Retry-After` header asks for, in milliseconds: delay-seconds (`120`) or an HTTP date, capped at
 * five minutes; undefined when the header is absent or unreadable.
 */
export function retryAfterMs(
  value: string | string[] | null | undefined,
  nowMs = Date.now(),
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const trimmed = text.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

/**
 * A wait with jitter: the asked wait plus up to a quarter more (and 250 ms), never less than asked, so a fleet
 * told the same Retry-After does not come back in the same instant.
 */
export function withJitter(ms: number, random: () => number = Math.random): number {
  return Math.round(ms + random() * (ms / 4 + 250));
}
