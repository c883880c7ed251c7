/**
 * Packs the `ignis` CLI (worker, sim, user commands) into an npm tarball that installs on its own:
 * `npm run pack:worker`, then `npm i -g ./dist/ignis-cli-<version>.tgz` (the ./ keeps npm from reading it as a GitHub name).
 *
 * esbuild bundles apps/cli/src to plain JavaScript with @ignis/protocol and every npm dependency inlined, so the
 * tarball has no dependencies to fetch, no tsx at run time and no path into this monorepo. The CUDA prover's
 * sources travel along in native/cuda, to be built on a GPU machine with native/cuda/build.sh.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const CLI_ROOT = fileURLToPath(new URL("..", import.meta.url));
const REPO_ROOT = join(CLI_ROOT, "..", "..");

/** What a pack produced: the tarball and the sizes worth recording. */
export interface PackedWorker {
  tarball: string;
  packageDir: string;
  tarballBytes: number;
  version: string;
}

/**
 * Modules a dependency asks for inside a try/catch and does without: ws's optional native speed-ups and
 * systeminformation's macOS sensor module. Left out of the bundle, their `require` fails and is caught.
 */
const OPTIONAL_NATIVE = ["bufferutil", "utf-8-validate", "osx-temperature-sensor"];

/** Builds the package folder and its tarball under `outDir` (default: the repository's dist/). */
export async function packWorker(outDir = join(REPO_ROOT, "dist")): Promise<PackedWorker> {
  const cli = JSON.parse(readFileSync(join(CLI_ROOT, "package.json"), "utf8")) as { version: string };
  const packageDir = join(outDir, "ignis-cli");
  rmSync(packageDir, { recursive: true, force: true });
  mkdirSync(join(packageDir, "bin"), { recursive: true });

  await build({
    entryPoints: [join(CLI_ROOT, "src/main.ts"), join(CLI_ROOT, "src/sim/fleet-child.ts")],
    outdir: join(packageDir, "lib"),
    entryNames: "[name]",
    chunkNames: "chunk-[hash]",
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node22",
    external: OPTIONAL_NATIVE,
    // CommonJS dependencies (ws, systeminformation) call require(); an ES module has none of its own.
    banner: {
      js: 'import { createRequire as __ignisCreateRequire } from "node:module"; const require = __ignisCreateRequire(import.meta.url);',
    },
    legalComments: "external",
    logLevel: "warning",
  });

  writeFileSync(join(packageDir, "bin/ignis.js"), '#!/usr/bin/env node\nimport "../lib/main.js";\n');
  chmodSync(join(packageDir, "bin/ignis.js"), 0o755);
  cpSync(join(CLI_ROOT, "native/cuda"), join(packageDir, "native/cuda"), {
    recursive: true,
    filter: (source) => !relative(join(CLI_ROOT, "native/cuda"), source).startsWith("build"),
  });
  writeFileSync(
    join(packageDir, "package.json"),
    `${JSON.stringify(
      {
        name: "@ignis/cli",
        version: cli.version,
        description:
          "Ignis worker and CLI: connect a GPU to the Ignis network, rent clusters, verify rewards",
        type: "module",
        bin: { ignis: "./bin/ignis.js" },
        engines: { node: ">=22" },
        files: ["bin", "lib", "native"],
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(
    join(packageDir, "README.md"),
    [
      "# @ignis/cli",
      "",
      "The Ignis worker and CLI, bundled: `ignis worker enroll`, `ignis worker run`, `ignis sim`, `ignis clusters`,",
      "`ignis rewards verify`. Needs Node 22 or later; it has no npm dependencies.",
      "",
      "GPU machines with nvcc can build the CUDA prover with `native/cuda/build.sh` (as the user who owns this",
      "package's folder); without it the worker uses its CPU prover and says so.",
      "",
    ].join("\n"),
  );

  const packed = execFileSync("npm", ["pack", "--json", "--pack-destination", outDir], {
    cwd: packageDir,
    encoding: "utf8",
  });
  const [info] = JSON.parse(packed) as Array<{ filename: string; size: number }>;
  return {
    tarball: join(outDir, info!.filename),
    packageDir,
    tarballBytes: info!.size,
    version: cli.version,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const packed = await packWorker(process.argv[2]);
  process.stdout.write(`packed ${packed.tarball} (${(packed.tarballBytes / 1e6).toFixed(2)} MB)\n`);
}
