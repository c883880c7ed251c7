import {
  decodeServerFrame,
  encodeFrame,
  type ServerMessage,
  sessionSigningText,
  WORKER_SESSION_PATH,
  type WorkerMessage,
} from "@ignis/protocol";
import WebSocket from "ws";
import { type DeviceKey, signText } from "../../../cli/src/worker/device-key.js";

/**
 * A bare worker WebSocket for tests that must misbehave (replays, forged signatures, floods), which the real
 * agent never does. Not a test file.
 */
export interface RawWorkerSocket {
  ws: WebSocket;
  /** The next server message (waits for it). */
  next(): Promise<ServerMessage>;
  /** Waits for a message of one type, skipping others. */
  nextOf<T extends ServerMessage["type"]>(type: T): Promise<Extract<ServerMessage, { type: T }>>;
  send(message: WorkerMessage | Record<string, unknown>): void;
  /** Resolves with the close code once the server closes the socket. */
  closed: Promise<number>;
}

/** Options of a raw socket. */
export interface RawSocketOptions {
  /** false: a peer that stopped answering pings (a half-open connection the server has not noticed yet). */
  autoPong?: boolean;
  /** Extra upgrade headers, e.g. `x-forwarded-for` behind a proxy the server trusts. */
  headers?: Record<string, string>;
  /** Extra fields of `session.auth` (`openDeviceSession`), e.g. a protocol range and features. */
  auth?: Record<string, unknown>;
}

/** Opens a socket to the server's worker endpoint. */
export async function openRawWorkerSocket(
  serverUrl: string,
  options: RawSocketOptions = {},
): Promise<RawWorkerSocket> {
  const ws = new WebSocket(`${serverUrl.replace(/^http/, "ws")}${WORKER_SESSION_PATH}`, {
    autoPong: options.autoPong ?? true,
    ...(options.headers ? { headers: options.headers } : {}),
  });
  const queue: ServerMessage[] = [];
  const waiters: Array<(m: ServerMessage) => void> = [];
  ws.on("message", (data) => {
    const message = decodeServerFrame(data.toString());
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const next = () =>
    new Promise<ServerMessage>((resolve) => {
      const queued = queue.shift();
      if (queued) resolve(queued);
      else waiters.push(resolve);
    });
  return {
    ws,
    next,
    async nextOf(type) {
      for (;;) {
        const m = await next();
        if (m.type === type) return m as never;
      }
    },
    send(message) {
      ws.send(
        "type" in message && (message as { v?: number }).v === undefined
          ? encodeFrame(message as WorkerMessage)
          : JSON.stringify(message),
      );
    },
    closed,
  };
}

/**
 * Opens a socket and authenticates it as the device with `key`; resolves with the socket, the session's nonce
 * and the server's first answer (`session.hello`, or the `session.error` that refused it).
 */
export async function openDeviceSession(
  serverUrl: string,
  deviceId: string,
  key: DeviceKey,
  options: RawSocketOptions = {},
): Promise<{ raw: RawWorkerSocket; nonce: string; answer: ServerMessage }> {
  const raw = await openRawWorkerSocket(serverUrl, options);
  const { nonce } = await raw.nextOf("session.challenge");
  raw.send({
    type: "session.auth",
    deviceId,
    publicKey: key.publicKey,
    signature: signText(key, sessionSigningText(nonce, deviceId, serverUrl)),
    ...options.auth,
  });
  return { raw, nonce, answer: await raw.next() };
}
