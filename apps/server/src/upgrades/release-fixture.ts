import { execFileSync } from "node:child_process";
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { releaseSigningText } from "@ignis/protocol";
import { sha256Hex } from "../../../cli/src/worker/update/release-verify.js";

/**
 * Test support for self-update: a release key, and real worker packages (gzipped tarballs with release.json and
 * an executable bin/ignis-worker) signed with it. A "good" package runs this repository's worker announcing the
 * package's version; a "hanging" one never connects. Not a test file; suites import it.
 */

/** The `ignis` script of this repository. */
export const IGNIS_BIN = fileURLToPath(new URL("../../../cli/bin/ignis.js", import.meta.url));

/** An Ed25519 release key for tests: its public half (what a worker trusts) and a signer. */
export interface TestReleaseKey {
  publicKey: string;
  sign(version: string, sha256: string): string;
}

/** Makes a fresh release key. */
export function testReleaseKey(): TestReleaseKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const x = (publicKey.export({ format: "jwk" }) as { x: string }).x;
  return { publicKey: x, sign: (version, sha256) => signWith(privateKey, version, sha256) };
}

function signWith(key: KeyObject, version: string, sha256: string): string {
  return sign(null, Buffer.from(releaseSigningText(version, sha256), "utf8"), key).toString("base64url");
}

/** A built package: the tarball's path and bytes, and its SHA-256. */
export interface TestPackage {
  version: string;
  file: string;
  bytes: Buffer;
  sha256: string;
}

/** Builds a package whose entry point runs `script` (a /bin/sh body); `$@` are the worker's arguments. */
export function buildPackage(dir: string, version: string, script: string): TestPackage {
  const root = mkdtempSync(join(tmpdir(), "ignis-package-"));
  try {
    mkdirSync(join(root, "bin"));
    writeFileSync(join(root, "release.json"), `${JSON.stringify({ version })}\n`);
    writeFileSync(join(root, "bin", "ignis-worker"), `#!/bin/sh\n${script}\n`);
    chmodSync(join(root, "bin", "ignis-worker"), 0o755);
    const file = join(dir, `ignis-worker-${version}.tar.gz`);
    execFileSync("tar", ["-czf", file, "-C", root, "release.json", "bin"]);
    const bytes = readFileSync(file);
    return { version, file, bytes, sha256: sha256Hex(bytes) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A package that runs this repository's worker as release `version` (exec: the worker keeps the pid). */
export function goodPackage(dir: string, version: string): TestPackage {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return buildPackage(
    dir,
    version,
    `exec ${quote(process.execPath)} ${quote(IGNIS_BIN)} worker "$@" --as-release ${version}`,
  );
}

/** A package whose worker starts but never comes online. */
export function hangingPackage(dir: string, version: string): TestPackage {
  return buildPackage(dir, version, "exec sleep 300");
}
