/**
 * The release key: the Ed25519 key that signs worker releases, and whose public half `npm run pack:worker` pins
 * in the worker it packs. Its private half lives in a file outside any repository, named by the operator.
 *
 *   npm run release:keygen -- --out PATH     writes a new private key to PATH (mode 0600), prints the public key
 *
 * `IGNIS_RELEASE_KEY_FILE=PATH npm run pack:worker` then pins that key and signs the release it packs.
 */
import { execFileSync } from "node:child_process";
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { releaseSigningText } from "@ignis/protocol";

/** A loaded release key: its public half as the worker pins it (raw Ed25519, base64url) and a signer. */
export interface ReleaseKey {
  publicKey: string;
  /** The detached signature (base64url) of a release: its version and its package's SHA-256. */
  sign(version: string, sha256: string): string;
}

/** The git work tree that holds `path`'s folder, or undefined when it is in none. */
function workTreeOf(path: string): string | undefined {
  try {
    return execFileSync("git", ["-C", realpathSync(dirname(path)), "rev-parse", "--show-toplevel"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * Makes a release key and writes its private half to `out` (PKCS#8 PEM, mode 0600, never overwriting a file).
 * Refused inside a git work tree, where one `git add -A` would publish it. Returns the public key.
 */
export function generateReleaseKey(out: string): string {
  const path = resolve(out);
  const tree = workTreeOf(path);
  if (tree !== undefined) {
    throw new Error(
      `${path} is inside the git work tree ${tree}; keep the release key outside every repository`,
    );
  }
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  writeFileSync(path, privateKey.export({ format: "pem", type: "pkcs8" }), { flag: "wx", mode: 0o600 });
  return (publicKey.export({ format: "jwk" }) as { x: string }).x;
}

/** Reads a release key file; refused when it is not an Ed25519 private key or others can read it. */
export function readReleaseKey(file: string): ReleaseKey {
  if (statSync(file).mode & 0o077) {
    throw new Error(`${file} can be read by other users; run chmod 600 on it`);
  }
  const privateKey = createPrivateKey(readFileSync(file));
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new Error(`${file} is not an Ed25519 private key (${privateKey.asymmetricKeyType})`);
  }
  const publicKey = (createPublicKey(privateKey).export({ format: "jwk" }) as { x: string }).x;
  return {
    publicKey,
    sign: (version, sha256) =>
      sign(null, Buffer.from(releaseSigningText(version, sha256), "utf8"), privateKey).toString("base64url"),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  if (!values.out || !isAbsolute(resolve(values.out))) {
    process.stderr.write("usage: npm run release:keygen -- --out PATH (outside any repository)\n");
    process.exit(2);
  }
  try {
    const publicKey = generateReleaseKey(values.out);
    process.stdout.write(
      `wrote the release key's private half to ${relative(process.cwd(), resolve(values.out)) || values.out} (mode 0600); ` +
        `pack and sign with IGNIS_RELEASE_KEY_FILE=${resolve(values.out)} npm run pack:worker\n` +
        `public key (pinned in every worker packed with it):\n${publicKey}\n`,
    );
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
