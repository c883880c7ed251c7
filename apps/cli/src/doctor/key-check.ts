import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { keyPath, readDeviceKey, readDeviceState } from "../worker/worker-state.js";
import { type DoctorCheck, fail, pass, warn } from "./doctor-check.js";

/**
 * The `key` check: the state folder's device key exists, parses, and no one but its owner may read it (or the
 * key being rotated in); the state folder itself is not writable by others. Without an enrolled device it warns.
 */
export function keyCheck(stateDir: string): DoctorCheck {
  let state: ReturnType<typeof readDeviceState>;
  try {
    state = readDeviceState(stateDir);
  } catch (error) {
    return fail(
      "key",
      `${join(stateDir, "device.json")} cannot be read: ${(error as Error).message}`,
      "enroll this device again with `ignis worker enroll` into an empty --state folder",
    );
  }
  if (!state) {
    return warn(
      "key",
      `no device enrolled in ${stateDir}`,
      `enroll it: ignis worker enroll --server URL --code CODE --state ${stateDir}`,
    );
  }
  const path = keyPath(stateDir);
  if (!existsSync(path)) {
    return fail(
      "key",
      `device ${state.deviceId} has no key file at ${path}`,
      "restore the key from a backup, or enroll the device again with a new code",
    );
  }
  if (process.platform !== "win32") {
    for (const file of [path, join(stateDir, "device-key.next.pem")]) {
      if (!existsSync(file)) continue;
      const mode = statSync(file).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        return fail(
          "key",
          `the device key ${file} is readable by others (mode ${octal(mode)})`,
          `make it private: chmod 600 ${file}`,
        );
      }
    }
    const dirMode = statSync(stateDir).mode & 0o777;
    if ((dirMode & 0o022) !== 0) {
      return fail(
        "key",
        `the state folder ${stateDir} is writable by others (mode ${octal(dirMode)}): they could swap the key`,
        `make it private: chmod 700 ${stateDir}`,
      );
    }
  }
  try {
    readDeviceKey(stateDir);
  } catch (error) {
    return fail(
      "key",
      `the device key ${path} cannot be read: ${(error as Error).message.slice(0, 120)}`,
      "restore the key from a backup, or enroll the device again with a new code",
    );
  }
  return pass("key", `device ${state.deviceId}: key ${path} is private (owner only)`);
}

function octal(mode: number): string {
  return mode.toString(8).padStart(3, "0");
}
