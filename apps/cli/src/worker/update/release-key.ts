import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { UpdateRefused } from "./release-verify.js";

/** Set by the packer (apps/cli/scripts/pack-worker.ts, esbuild `define`); undeclared in a source checkout. */
declare const __IGNIS_PINNED_RELEASE_KEY__: string | undefined;

/**
 * The release key pinned in this worker: only packages it signed are installed. `npm run pack:worker` pins the
 * public half of the key in `IGNIS_RELEASE_KEY_FILE` (the key that signs the releases it packs; its private half
 * is kept by whoever cuts releases, outside any repository). A worker run from source or packed without that
 * file pins no key and installs no update until its owner names one. The server can never change it: a
 * supplier may set one only locally, with `--release-key` or `releaseKey` in `<state>/update.json` (a private
 * build, a test fleet).
 */
export const PINNED_RELEASE_PUBLIC_KEY: string | undefined =
  typeof __IGNIS_PINNED_RELEASE_KEY__ === "string" ? __IGNIS_PINNED_RELEASE_KEY__ : undefined;

/** The supplier's local update settings, `<state>/update.json`; written only by this machine's owner. */
export const UpdateSettings = z.strictObject({
  /** Install releases the server offers without being asked (`ignis worker update --auto`). */
  auto: z.boolean().default(false),
  /** A release key to trust instead of the pinned one (raw Ed25519 public key, base64url). */
  releaseKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/)
    .optional(),
  /** How long a new release has to come online before the update is rolled back. */
  onlineWithinSeconds: z.int().min(5).max(3600).default(120),
});
/** A parsed `UpdateSettings`. */
export type UpdateSettings = z.infer<typeof UpdateSettings>;

const SETTINGS_FILE = "update.json";

/** Path of the update settings of a state folder. */
export function updateSettingsPath(stateDir: string): string {
  return join(stateDir, SETTINGS_FILE);
}

/** The update settings of a state folder (defaults when there is no file). */
export function readUpdateSettings(stateDir: string): UpdateSettings {
  const path = updateSettingsPath(stateDir);
  if (!existsSync(path)) return UpdateSettings.parse({});
  return UpdateSettings.parse(JSON.parse(readFileSync(path, "utf8")));
}

/**
 * The key a package must be signed with: the flag, else the local settings, else the pinned key. Throws
 * UpdateRefused (`no_release_key`) when there is none, so a development build never installs anything.
 */
export function trustedReleaseKey(
  stateDir: string,
  flag?: string,
  pinned: string | undefined = PINNED_RELEASE_PUBLIC_KEY,
): string {
  if (flag !== undefined) {
    if (!/^[A-Za-z0-9_-]{43}$/.test(flag))
      throw new Error("--release-key must be a base64url Ed25519 public key");
    return flag;
  }
  const key = readUpdateSettings(stateDir).releaseKey ?? pinned;
  if (key === undefined) {
    throw new UpdateRefused(
      "no_release_key",
      "this worker is a development build with no pinned release key (packed without IGNIS_RELEASE_KEY_FILE, " +
        "or run from source): pass --release-key KEY or set releaseKey in " +
        `${updateSettingsPath(stateDir)} to the public key whose releases you trust`,
    );
  }
  return key;
}
