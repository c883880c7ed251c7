import type { DeviceKey } from "./device-key.js";
import {
  discardNextKey,
  promoteNextKey,
  readDeviceKey,
  readDeviceState,
  readNextKey,
  writeDeviceState,
  writeNextKey,
} from "./worker-state.js";

/** Handshake refusals that mean "the server does not know this key". */
const UNKNOWN_KEY = new Set(["handshake_failed", "invalid_signature"]);

/**
 * The device's keys on disk: the current one and, during a rotation, the next one. A rotation interrupted after
 * the server registered the new key but before the worker saved that fact is finished at the next handshake
 * (the next key is tried first); one the server never registered is dropped when the server refuses it.
 */
export interface KeyRing {
  /** The key to sign the next handshake with. */
  forHandshake(): DeviceKey;
  /** Records a successful handshake; true when it finished an interrupted rotation. */
  handshakeSucceeded(key: DeviceKey): boolean;
  handshakeFailed(key: DeviceKey, code: string): void;
  /** Saves a new key before asking the server to register it. */
  stageNext(key: DeviceKey): void;
  /** The server refused the rotation: forget the staged key. */
  abandonNext(): void;
  /** The server registered the staged key: it becomes the current key. */
  promote(key: DeviceKey, keyId: string): void;
}

/** Opens the key ring of a state folder. */
export function createKeyRing(stateDir: string): KeyRing {
  let current = readDeviceKey(stateDir);
  let next = readNextKey(stateDir);

  const promote = (key: DeviceKey, keyId?: string) => {
    promoteNextKey(stateDir);
    current = key;
    next = undefined;
    const state = readDeviceState(stateDir);
    if (state)
      writeDeviceState(stateDir, { ...state, publicKey: key.publicKey, ...(keyId ? { keyId } : {}) });
  };

  return {
    forHandshake: () => next ?? current,
    handshakeSucceeded(key) {
      if (!next || key !== next) return false;
      promote(key);
      return true;
    },
    handshakeFailed(key, code) {
      if (next && key === next && UNKNOWN_KEY.has(code)) {
        discardNextKey(stateDir);
        next = undefined;
      }
    },
    stageNext(key) {
      writeNextKey(stateDir, key);
      next = key;
    },
    abandonNext() {
      discardNextKey(stateDir);
      next = undefined;
    },
    promote: (key, keyId) => promote(key, keyId),
  };
}
