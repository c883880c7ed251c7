import { execFile } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { UpdateRefused } from "./release-verify.js";

/**
 * Installed worker releases, side by side: `<root>/versions/<version>/` holds each unpacked package and
 * `<root>/current` is a symlink to the one that runs. Switching (and rolling back) is one atomic rename of that
 * link, so a crash at any moment leaves either the old or the new release current, never half of one.
 *
 * A package is a gzipped tarball with `release.json` (`{ "version": ... }`) and an executable
 * `bin/ignis-worker` at its root; `bin/ignis-worker run --state DIR ...` must exec the worker (same pid).
 */

const run = promisify(execFile);

/** The entry point of an installed release. */
export function releaseEntry(root: string, version: string): string {
  return join(root, "versions", version, "bin", "ignis-worker");
}

/** The release `current` points at, or undefined before the first install. */
export function currentRelease(root: string): string | undefined {
  try {
    return basename(readlinkSync(join(root, "current")));
  } catch {
    return undefined;
  }
}

/** Points `current` at an installed release, atomically. */
export function switchCurrent(root: string, version: string): void {
  if (!existsSync(releaseEntry(root, version)))
    throw new Error(`release ${version} is not installed in ${root}`);
  const tmp = join(root, `current.${process.pid}.tmp`);
  rmSync(tmp, { force: true });
  symlinkSync(join("versions", version), tmp);
  renameSync(tmp, join(root, "current"));
}

/**
 * Records the release that runs now (started from an npm or source install, not from `root`) as an installed
 * release whose entry point runs the same program, so a rollback has somewhere to go back to.
 */
export function recordRunningRelease(
  root: string,
  version: string,
  launcher: { node: string; script: string },
): void {
  const dir = join(root, "versions", version);
  if (existsSync(join(dir, "bin", "ignis-worker"))) return;
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(join(dir, "release.json"), `${JSON.stringify({ version })}\n`);
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  writeFileSync(
    join(dir, "bin", "ignis-worker"),
    `#!/bin/sh\nexec ${quote(launcher.node)} ${quote(launcher.script)} worker "$@"\n`,
    { mode: 0o755 },
  );
}

/**
 * Unpacks a verified package into `versions/<version>` (through a temporary folder, renamed into place only when
 * complete) and checks that it is the release it was signed as. Does not switch `current`.
 */
export async function installRelease(root: string, version: string, tarball: Uint8Array): Promise<void> {
  const versions = join(root, "versions");
  mkdirSync(versions, { recursive: true });
  const incoming = join(versions, `.incoming-${process.pid}-${Date.now()}`);
  mkdirSync(incoming);
  const file = `${incoming}.tar.gz`;
  try {
    writeFileSync(file, tarball);
    try {
      await run("tar", ["-xzf", file, "-C", incoming, "--no-same-owner", "--no-same-permissions"]);
    } catch (error) {
      throw new UpdateRefused(
        "bad_package",
        `the package is not a gzipped tarball: ${(error as Error).message}`,
      );
    }
    let announced: unknown;
    try {
      announced = (JSON.parse(readFileSync(join(incoming, "release.json"), "utf8")) as { version?: unknown })
        .version;
    } catch {
      throw new UpdateRefused("bad_package", "the package has no readable release.json");
    }
    if (announced !== version) {
      throw new UpdateRefused(
        "bad_package",
        `the package says it is ${String(announced)}, it was signed as ${version}`,
      );
    }
    try {
      accessSync(join(incoming, "bin", "ignis-worker"), constants.X_OK);
    } catch {
      throw new UpdateRefused("bad_package", "the package has no executable bin/ignis-worker");
    }
    const target = join(versions, version);
    if (currentRelease(root) === version)
      throw new UpdateRefused("not_newer", `${version} is already current`);
    rmSync(target, { recursive: true, force: true });
    renameSync(incoming, target);
  } finally {
    rmSync(file, { force: true });
    rmSync(incoming, { recursive: true, force: true });
  }
}

/**
 * Removes installed releases other than `keep` (the current one and the one a rollback would return to), so
 * the install root holds two releases at most however many updates it has seen. Returns the versions removed.
 */
export function pruneReleases(root: string, keep: readonly string[]): string[] {
  const versions = join(root, "versions");
  if (!existsSync(versions)) return [];
  const removed: string[] = [];
  for (const entry of readdirSync(versions, { withFileTypes: true })) {
    // `.incoming-*` folders belong to an install in progress (or one a crash left), never to a release.
    if (!entry.isDirectory() || entry.name.startsWith(".") || keep.includes(entry.name)) continue;
    rmSync(join(versions, entry.name), { recursive: true, force: true });
    removed.push(entry.name);
  }
  return removed.sort();
}
