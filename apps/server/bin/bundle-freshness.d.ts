/**
 * `{ bundle }` (its path) when the bundle of the server package at `root` (default: this apps/server) is newer
 * than every source it is built from, else `{ reason }` saying why the sources run instead.
 */
export function freshBundle(
  root?: string,
): { bundle: string; reason?: undefined } | { bundle?: undefined; reason: string };
