import {
  decodeServerFrame,
  encodeFrame,
  type ServerMessage,
  WORKER_SESSION_PATH,
  type WorkerMessage,
} from "@ignis/protocol";
import WebSocket from "ws";

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

/** Opens a socket to the server's worker endpoint. */
export async function openRawWorkerSocket(serverUrl: string): Promise<RawWorkerSocket> {
  const ws = new WebSocket(`${serverUrl.replace(/^http/, "ws")}${WORKER_SESSION_PATH}`);
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
