/**
 * Packs the `ignis` CLI (worker, sim, user commands) into an npm tarball that installs on its own:
 * `npm run pack:worker`, then `npm i -g ./dist/ignis-cli-<version>.tgz` (the ./ keeps npm from reading it as a GitHub name).
 *
 * esbuild bundles apps/cli/src to plain JavaScript with @ignis/protocol and every npm dependency inlined, so the
 * tarball has no dependencies to fetch, no tsx at run time and no path into this monorepo. The CUDA prover's
 * sources travel along in native/cuda, to be built on a GPU machine with native/cuda/build.sh.
 *
 * Releases: with `IGNIS_RELEASE_KEY_FILE` (made by `npm run release:keygen`), the packed worker pins that key's
 * public half (`PINNED_RELEASE_PUBLIC_KEY`), and the same files are also packed as a self-update package,
 * `ignis-worker-<version>.tar.gz` (release.json, bin/ignis-worker), signed with the key into `<package>.sig`: a
 * packed worker trusts exactly the key that signs its releases. Without the file the worker pins no key and
 * `ignis worker update` refuses until its owner names one (a development build).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { sha256Hex } from "../src/worker/update/release-verify.js";
import { type ReleaseKey, readReleaseKey } from "./release-key.js";

const CLI_ROOT = fileURLToPath(new URL("..", import.meta.url));
const REPO_ROOT = join(CLI_ROOT, "..", "..");

/** What a pack produced: the tarball and the sizes worth recording. */
export interface PackedWorker {
  tarball: string;
  packageDir: string;
  tarballBytes: number;
  version: string;
  /** The release key pinned in the packed worker (raw Ed25519, base64url); undefined for a development build. */
  pinnedReleaseKey: string | undefined;
  /** The signed self-update package, when packed with a release key. */
  release?: { file: string; signatureFile: string; signature: string; sha256: string };
}

/**
 * Modules a dependency asks for inside a try/catch and does without: ws's optional native speed-ups,
 * systeminformation's macOS sensor module and the WebGPU prover's Dawn binding (native, one per platform). Left
 * out of the bundle, their `require` (or `import`) fails and is caught.
 */
const OPTIONAL_NATIVE = ["bufferutil", "utf-8-validate", "osx-temperature-sensor", "webgpu"];

/**
 * Builds the package folder and its tarball under `outDir` (default: the repository's dist/); with a release key
 * file, pins its public key and writes the signed self-update package beside the tarball.
 */
export async function packWorker(
  outDir = join(REPO_ROOT, "dist"),
  options: { releaseKeyFile?: string | undefined } = {},
): Promise<PackedWorker> {
  const releaseKey = options.releaseKeyFile ? readReleaseKey(options.releaseKeyFile) : undefined;
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
    define: releaseKey ? { __IGNIS_PINNED_RELEASE_KEY__: JSON.stringify(releaseKey.publicKey) } : {},
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
    pinnedReleaseKey: releaseKey?.publicKey,
    ...(releaseKey ? { release: signedRelease(packageDir, outDir, cli.version, releaseKey) } : {}),
  };
}

/**
 * The self-update package of a packed folder (what `ignis worker update` installs: release.json and an
 * executable bin/ignis-worker that execs this release's worker), and its signature by the release key.
 */
function signedRelease(packageDir: string, outDir: string, version: string, key: ReleaseKey) {
  writeFileSync(join(packageDir, "release.json"), `${JSON.stringify({ version })}\n`);
  writeFileSync(
    join(packageDir, "bin/ignis-worker"),
    '#!/bin/sh\nhere=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)\nexec node "$here/lib/main.js" worker "$@"\n',
  );
  chmodSync(join(packageDir, "bin/ignis-worker"), 0o755);
  const file = join(outDir, `ignis-worker-${version}.tar.gz`);
  execFileSync("tar", [
    "-czf",
    file,
    "-C",
    packageDir,
    "release.json",
    "package.json",
    "bin",
    "lib",
    "native",
  ]);
  const sha256 = sha256Hex(readFileSync(file));
  const signature = key.sign(version, sha256);
  const signatureFile = `${file}.sig`;
  writeFileSync(signatureFile, `${signature}\n`);
  return { file, signatureFile, signature, sha256 };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const packed = await packWorker(process.argv[2], { releaseKeyFile: process.env.IGNIS_RELEASE_KEY_FILE });
  process.stdout.write(`packed ${packed.tarball} (${(packed.tarballBytes / 1e6).toFixed(2)} MB)\n`);
  if (packed.release) {
    const r = packed.release;
    process.stdout.write(
      `release ${packed.version}: ${r.file} (sha256 ${r.sha256}), signature ${r.signatureFile}; ` +
        `the worker pins release key ${packed.pinnedReleaseKey}\n` +
        `install: ignis worker update --version ${packed.version} --package ${r.file} --signature @${r.signatureFile}\n`,
    );
  } else {
    process.stdout.write(
      "development build: no release key pinned (IGNIS_RELEASE_KEY_FILE is not set), so `ignis worker update` " +
        "in it refuses packages unless its owner names a key with --release-key\n",
    );
  }
}
