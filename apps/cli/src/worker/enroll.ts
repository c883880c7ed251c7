import { existsSync, rmSync } from "node:fs";
import { type EnrollResponse, enrollmentSigningText, type HardwareClaim } from "@ignis/protocol";
import { apiRequest } from "../api-client.js";
import { normalizeServer } from "../auth/state-dir.js";
import { hardwareClaim } from "../hardware/detect.js";
import { generateDeviceKey, signText } from "./device-key.js";
import {
  ensureStateDir,
  keyPath,
  readDeviceState,
  writeDeviceKey,
  writeDeviceState,
} from "./worker-state.js";

/** What enrollment needs: the server, a single-use code, where to keep state, and optionally a simulated profile. */
export interface EnrollOptions {
  server: string;
  code: string;
  stateDir: string;
  profile?: string | undefined;
  /** How long to wait out 429/503 answers (see apiRequest); the default suits one device. */
  retryBudgetMs?: number;
  /** A claim to send instead of detecting one (tests). */
  hardware?: HardwareClaim;
}

/**
 * Enrolls this machine: makes an Ed25519 key pair here (the private key is written with mode 0600 and never
 * sent), signs (code, public key, claim) and trades the code for a device id. A state folder holds one device.
 */
export async function enrollDevice(options: EnrollOptions): Promise<{ deviceId: string; keyId: string }> {
  const server = normalizeServer(options.server);
  const existing = readDeviceState(options.stateDir);
  if (existing) {
    throw new Error(
      `${options.stateDir} already holds device ${existing.deviceId}; use another --state folder for another device`,
    );
  }
  ensureStateDir(options.stateDir);
  const hardware =
    options.hardware ?? (await hardwareClaim({ profile: options.profile, stateDir: options.stateDir }));
  const key = generateDeviceKey();
  const code = options.code.trim();
  // The key is on disk before the server knows it, so a crash cannot leave an enrolled device without its key.
  writeDeviceKey(options.stateDir, key);
  let enrolled: EnrollResponse;
  try {
    enrolled = await apiRequest<EnrollResponse>(server, "/v1/enrollments", {
      method: "POST",
      body: {
        code,
        publicKey: key.publicKey,
        hardware,
        signature: signText(key, enrollmentSigningText(code, key.publicKey, hardware)),
      },
      ...(options.retryBudgetMs !== undefined ? { retryBudgetMs: options.retryBudgetMs } : {}),
    });
  } catch (error) {
    if (existsSync(keyPath(options.stateDir))) rmSync(keyPath(options.stateDir));
    throw error;
  }
  writeDeviceState(options.stateDir, {
    server,
    deviceId: enrolled.deviceId,
    keyId: enrolled.keyId,
    publicKey: key.publicKey,
    profile: hardware.profile,
    enrolledAt: new Date().toISOString(),
  });
  return { deviceId: enrolled.deviceId, keyId: enrolled.keyId };
}
