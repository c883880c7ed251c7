// Whether apps/server/dist/main.js (npm run build:server) may run instead of the TypeScript sources: only while
// no source it was built from (the server's and @ignis/protocol's src, their package.json) is newer than the
// build, so an edit, a pull or a checkout never runs stale code. Plain JavaScript: it runs before tsx loads.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SERVER_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** What the bundle is built from, for a server package at `root` (apps/server). */
const sourcesOf = (root) => [
  join(root, "src"),
  join(root, "package.json"),
  join(root, "..", "..", "packages", "protocol", "src"),
  join(root, "..", "..", "packages", "protocol", "package.json"),
];

/** The newest modification time under `path` (a file or a directory tree), in ms. */
function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * `{ bundle }` (its path) when the bundle of the server package at `root` is current, else `{ reason }` saying
 * why the sources run instead.
 */
export function freshBundle(root = SERVER_ROOT) {
  const bundle = join(root, "dist", "main.js");
  let startedAt;
  try {
    ({ startedAt } = JSON.parse(readFileSync(join(root, "dist", "built-at.json"), "utf8")));
    statSync(bundle);
  } catch {
    return { reason: "no bundle (npm run build:server makes one)" };
  }
  try {
    const newest = Math.max(...sourcesOf(root).map(newestMtime));
    if (newest > startedAt) return { reason: "sources changed since the bundle was built" };
  } catch {
    return { reason: "the sources could not be read" };
  }
  return { bundle };
}
