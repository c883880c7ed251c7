import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/**
 * The release key pinned in this worker: only packages it signed are installed. Its private half is held offline
 * by whoever cuts releases and is in no repository. The server can never change it: a supplier may override it
 * only locally, with `--release-key` or `releaseKey` in `<state>/update.json` (a private build, a test fleet).
 */
export const PINNED_RELEASE_PUBLIC_KEY = "IDsw0V3QvZWuWrLkuCI99de9HgTi414Zrwde7U7aNBM";

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

/** The key a package must be signed with: the flag, else the local settings, else the pinned key. */
export function trustedReleaseKey(stateDir: string, flag?: string): string {
  if (flag !== undefined) {
    if (!/^[A-Za-z0-9_-]{43}$/.test(flag))
      throw new Error("--release-key must be a base64url Ed25519 public key");
    return flag;
  }
  return readUpdateSettings(stateDir).releaseKey ?? PINNED_RELEASE_PUBLIC_KEY;
}
