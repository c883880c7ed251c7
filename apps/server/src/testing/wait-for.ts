import { inspect } from "node:util";

type WaitOptions = { timeoutMs?: number; everyMs?: number };

/**
 * The one bounded wait of the tests: waits for the event a test is about by polling, never by sleeping.
 *
 * - `waitFor(what, probe)` polls `probe` until it returns a value other than `undefined`, `null` or `false`, and
 *   returns that value.
 * - `waitFor(what, read, { until })` polls `read` until `until` accepts what it read, and returns that; a timeout
 *   then shows the last value read (the device's status, the rows so far), not only `false`.
 *
 * It fails after `timeoutMs` with what it waited for, the last value seen and the probe's last error, so a bound
 * that is too tight reads as a missed event, never as a wrong value. The bound only catches a hang: pick it many
 * times the expected wait, since a loaded machine stretches every wait.
 */
export async function waitFor<T>(
  what: string,
  read: () => Promise<T> | T,
  options: WaitOptions & { until: (value: T) => boolean },
): Promise<T>;
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options?: WaitOptions,
): Promise<T>;
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: WaitOptions & { until?: (value: T) => boolean } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const everyMs = options.everyMs ?? 50;
  const ready =
    options.until ??
    ((value: T | undefined | null | false) => value !== undefined && value !== null && value !== false);
  const deadline = Date.now() + timeoutMs;
  let seen: { value: unknown } | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (ready(value as T)) return value as T;
      seen = { value };
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const last = seen === undefined ? "" : `; last value seen: ${describe(seen.value)}`;
      const cause = lastError === undefined ? "" : `; last error: ${String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** One line, cut short: enough to see what the probe saw without flooding the report. */
function describe(value: unknown): string {
  const text = inspect(value, { depth: 4, breakLength: Number.POSITIVE_INFINITY });
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
