import { CONFIG_KEYS } from "./config.js";

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * The known name a typo most likely meant ("did you mean"): the nearest within a third of its length (at least
 * two edits); undefined when none is that close.
 */
export function closestName(word: string, known: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(word, name);
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(word.length / 3)) ? best.name : undefined;
}

/**
 * Environment variables that look like a misspelt server setting (`IGNIS_NAT_URL` for `IGNIS_NATS_URL`): the
 * server would otherwise start on the default without a word. Other `IGNIS_` variables (the CLI's, a job's) are
 * not settings of the server and are left alone unless they are this close to one.
 */
export function misspeltSettings(
  env: Record<string, string | undefined>,
): { key: string; didYouMean: string }[] {
  const found: { key: string; didYouMean: string }[] = [];
  for (const key of Object.keys(env)) {
    if (!key.startsWith("IGNIS_") || CONFIG_KEYS.includes(key)) continue;
    let best: { key: string; d: number } | undefined;
    for (const known of CONFIG_KEYS) {
      const d = distance(key, known);
      if (!best || d < best.d) best = { key: known, d };
    }
    if (best && best.d <= 2) found.push({ key, didYouMean: best.key });
  }
  return found;
}
