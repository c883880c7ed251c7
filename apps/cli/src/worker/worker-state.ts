import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type DeviceKey, keyFromPem, keyToPem } from "./device-key.js";

/** What the worker remembers about its enrollment (not secret; the key lives in its own 0600 file). */
export interface DeviceState {
  server: string;
  deviceId: string;
  keyId: string;
  publicKey: string;
  profile: string;
  enrolledAt: string;
}

const STATE_FILE = "device.json";
const KEY_FILE = "device-key.pem";
/** A rotation in flight: written before the server is asked, promoted once it confirms. */
const NEXT_KEY_FILE = "device-key.next.pem";

/** Writes a file readable by its owner only, atomically (temp file, then rename). */
export function writePrivateFile(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  // writeFileSync's mode is filtered by the umask; set it outright.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Creates the state folder (mode 0700) if needed. */
export function ensureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** The enrolled device of a state folder, or undefined when it has none. */
export function readDeviceState(dir: string): DeviceState | undefined {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, "utf8")) as DeviceState;
}

/** Records the enrolled device. */
export function writeDeviceState(dir: string, state: DeviceState): void {
  writePrivateFile(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

/** Path of the device's private key file. */
export function keyPath(dir: string): string {
  return join(dir, KEY_FILE);
}

/**
 * Refuses a device key file that its group or others may read (a copied key can take the device over), saying
 * how to fix it. POSIX modes only; Windows has none to check.
 */
export function assertPrivateKeyFile(dir: string): void {
  if (process.platform === "win32") return;
  for (const path of [keyPath(dir), join(dir, NEXT_KEY_FILE)]) {
    if (!existsSync(path)) continue;
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `the device key ${path} is readable by others (mode ${mode.toString(8).padStart(3, "0")}); ` +
          `make it private with \`chmod 600 ${path}\` and start the worker again`,
      );
    }
  }
}

/** Saves the device key (mode 0600). */
export function writeDeviceKey(dir: string, key: DeviceKey): void {
  writePrivateFile(keyPath(dir), keyToPem(key));
}

/** Loads the device key. */
export function readDeviceKey(dir: string): DeviceKey {
  return keyFromPem(readFileSync(keyPath(dir), "utf8"));
}

/** Saves a key that is being rotated in, before the server is asked to register it. */
export function writeNextKey(dir: string, key: DeviceKey): void {
  writePrivateFile(join(dir, NEXT_KEY_FILE), keyToPem(key));
}

/** The key being rotated in, if a rotation was interrupted. */
export function readNextKey(dir: string): DeviceKey | undefined {
  const path = join(dir, NEXT_KEY_FILE);
  return existsSync(path) ? keyFromPem(readFileSync(path, "utf8")) : undefined;
}

/** The server confirmed the new key: it replaces the old one in one rename. */
export function promoteNextKey(dir: string): void {
  renameSync(join(dir, NEXT_KEY_FILE), keyPath(dir));
}

/** The server never registered the new key: forget it. */
export function discardNextKey(dir: string): void {
  rmSync(join(dir, NEXT_KEY_FILE), { force: true });
}
