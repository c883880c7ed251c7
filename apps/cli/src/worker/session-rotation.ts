import { rotationSigningText, type ServerMessage, type WorkerMessage } from "@ignis/protocol";
import { type DeviceKey, generateDeviceKey, signText } from "./device-key.js";
import type { KeyRing } from "./key-ring.js";

type Of<T extends ServerMessage["type"]> = Extract<ServerMessage, { type: T }>;

/** Longest wait before answering a rotation request, however far away its deadline is. */
const MAX_SPREAD_MS = 600_000;

/**
 * In-band key rotation over one session. On a request (a fleet migration), a new key is made and staged after
 * a random wait, then announced signed by both the current and the new key over the session's nonce; it is
 * promoted once the server confirms, and abandoned if the server refuses. What was staged survives a lost
 * connection in the key ring, which finishes the rotation at the next handshake.
 */
export function createSessionRotation(deps: {
  keys: KeyRing;
  deviceId: string;
  send(message: WorkerMessage): boolean;
  log(line: string): void;
  /** The key this session authenticated with, and its nonce, at the moment of rotating. */
  current(): { key: DeviceKey; nonce: string; open: boolean };
}) {
  let staged: DeviceKey | undefined;
  let timer: NodeJS.Timeout | undefined;

  const rotate = () => {
    timer = undefined;
    const { key, nonce, open } = deps.current();
    if (staged || !open) return;
    staged = generateDeviceKey();
    deps.keys.stageNext(staged);
    const text = rotationSigningText(nonce, deps.deviceId, key.publicKey, staged.publicKey);
    deps.send({
      type: "key.rotate",
      newPublicKey: staged.publicKey,
      signatureOld: signText(key, text),
      signatureNew: signText(staged, text),
    });
  };

  return {
    /** A fleet migration asks this device to rotate by a deadline. */
    requested(message: Of<"key.rotate-request">): void {
      if (staged || timer) return;
      // Spread a fleet's rotations over a quarter of the time left (10 minutes at most): a migration must not
      // make every device hit the server in the same second.
      const spreadMs = Math.min(Math.max(0, Date.parse(message.rotateBy) - Date.now()) / 4, MAX_SPREAD_MS);
      timer = setTimeout(rotate, Math.random() * spreadMs);
    },
    /** The server took the new key: returns it, now the session's key, or undefined when it is not ours. */
    confirmed(message: Of<"key.rotated">): DeviceKey | undefined {
      if (!staged || staged.publicKey !== message.publicKey) return undefined;
      const key = staged;
      deps.keys.promote(key, message.keyId);
      staged = undefined;
      deps.log(`key rotated to ${message.keyId}; the old key retires at ${message.oldKeyRetiresAt}`);
      return key;
    },
    /** The server refused the rotation: the staged key is dropped, and a later request starts over. */
    refused(): void {
      if (!staged) return;
      deps.keys.abandonNext();
      staged = undefined;
    },
    /** The session ended: a wait not yet over is cancelled (a staged key stays in the ring). */
    stop(): void {
      clearTimeout(timer);
    },
  };
}
