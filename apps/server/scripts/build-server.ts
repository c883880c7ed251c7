/**
 * `npm run build:server`: bundles the server's TypeScript (apps/server/src and @ignis/protocol) into one plain
 * JavaScript file, apps/server/dist/main.js, so a start loads no TypeScript: tsx spent ~12 s of a quiet 2-core
 * machine's start (and 40 s of a loaded one) compiling the sources, while devices waited on `503 starting`.
 * npm dependencies stay outside the bundle and load from node_modules as before (native argon2, PGlite's wasm).
 * bin/ignis-server.js runs the bundle only while no source is newer than it (bundle-freshness.js).
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const SERVER_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Where the bundle goes (ignored by git, like every dist/). */
export const BUNDLE = join(SERVER_ROOT, "dist", "main.js");

/** Bare imports stay external, except the workspace's own TypeScript packages, which are bundled. */
const externalDependencies: Plugin = {
  name: "external-dependencies",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@ignis/") ? undefined : { path: args.path, external: true },
    );
  },
};

/**
 * Builds the bundle and records the instant it was built from. Each file is written beside its place and renamed
 * over it, so a server starting meanwhile loads the old bundle or the new one, never half of one.
 */
export async function buildServer(): Promise<string> {
  const startedAt = Date.now();
  const { outputFiles } = await build({
    write: false,
    entryPoints: [join(SERVER_ROOT, "src", "main.ts")],
    outfile: BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
    plugins: [externalDependencies],
  });
  mkdirSync(dirname(BUNDLE), { recursive: true });
  for (const file of outputFiles) {
    writeFileSync(`${file.path}.${process.pid}`, file.contents);
    renameSync(`${file.path}.${process.pid}`, file.path);
  }
  // Sources saved while the build ran are newer than this stamp, so the next start runs them through tsx.
  writeFileSync(join(dirname(BUNDLE), "built-at.json"), `${JSON.stringify({ startedAt })}\n`);
  return BUNDLE;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildServer();
  process.stdout.write(`bundled the server into ${out}\n`);
}
