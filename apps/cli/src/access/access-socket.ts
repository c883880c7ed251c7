import { AccessControlMessage } from "@ignis/protocol";
import WebSocket from "ws";
import { ApiError } from "../api-client.js";

/** What the server said at the end of a stream: the command's exit code, or a refusal with its code. */
export type AccessEnd = { exitCode: number | null } | { error: ApiError };

/** An open stream into a job: bytes both ways, an end-of-input, and how it ended. */
export interface AccessSocket {
  /** Sends bytes (stdin, or the local connection's); resolves once the socket took them (backpressure). */
  write(bytes: Buffer): Promise<void>;
  /** Says there is no more input (stdin ended; the local connection half-closed). */
  eof(): void;
  /** Leaves the stream (the process in the job is ended). */
  close(): void;
  /** Bytes from the job: `fd` 1 is stdout (or the connection), 2 stderr. */
  onData(listener: (fd: 1 | 2, bytes: Buffer) => void): void;
  /** Called when the job's side has no more output. */
  onEof(listener: () => void): void;
  /** Resolves once the stream is over. */
  ended: Promise<AccessEnd>;
  /** Resolves with true once the WebSocket is open (false when it never opened). */
  opened: Promise<boolean>;
}

/**
 * Opens an access WebSocket on the server (`.../exec` or `.../forward`) with the caller's bearer credential. A
 * refusal before the upgrade (404, 409 cluster_not_running, ...) ends the stream with the problem's code.
 */
export function openAccessSocket(server: string, path: string, token: string | undefined): AccessSocket {
  const url = new URL(path, server.endsWith("/") ? server : `${server}/`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    perMessageDeflate: false,
    handshakeTimeout: 30_000,
  });
  const dataListeners: Array<(fd: 1 | 2, bytes: Buffer) => void> = [];
  const eofListeners: Array<() => void> = [];
  let end: AccessEnd | undefined;
  let resolveEnded!: (e: AccessEnd) => void;
  const ended = new Promise<AccessEnd>((r) => (resolveEnded = r));
  let resolveOpened!: (open: boolean) => void;
  const opened = new Promise<boolean>((resolve) => (resolveOpened = resolve));
  ws.once("open", () => resolveOpened(true));
  ws.once("close", () => resolveOpened(false));

  // A refusal before the upgrade: ws emits no close for it, so both promises are settled from its body.
  ws.on("unexpected-response", (request, response) => {
    resolveOpened(false);
    const chunks: Buffer[] = [];
    response.on("data", (c: Buffer) => chunks.push(c));
    response.on("end", () => {
      let problem: { code?: string; detail?: string; title?: string } = {};
      try {
        problem = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof problem;
      } catch {
        // not a problem+json body: the status alone says it
      }
      end ??= {
        error: new ApiError(
          response.statusCode ?? 0,
          problem.code ?? "unknown",
          problem.detail ?? problem.title ?? `HTTP ${response.statusCode}`,
        ),
      };
      resolveEnded(end);
      request.destroy();
    });
  });
  ws.on("message", (data, isBinary) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      const fd = bytes[0] === 2 ? 2 : 1;
      for (const l of dataListeners) l(fd, bytes.subarray(1));
      return;
    }
    const parsed = AccessControlMessage.safeParse(JSON.parse(bytes.toString("utf8")));
    if (!parsed.success) return;
    const m = parsed.data;
    if (m.type === "eof") for (const l of eofListeners) l();
    else if (m.type === "exit") end ??= { exitCode: m.exitCode };
    else if (m.type === "error") end ??= { error: new ApiError(0, m.code, m.message) };
  });
  ws.on("error", (error) => {
    end ??= { error: new ApiError(0, "unavailable", error.message) };
    resolveOpened(false);
  });
  ws.on("close", () => {
    // An upgrade refusal resolves once its body is read; anything else ends here.
    if (end && !("error" in end && end.error.status > 0)) resolveEnded(end);
    else if (!end) resolveEnded({ error: new ApiError(0, "unavailable", "the server closed the session") });
  });

  return {
    write(bytes) {
      if (ws.readyState !== WebSocket.OPEN || bytes.length === 0) return Promise.resolve();
      return new Promise((resolve) => ws.send(bytes, () => resolve()));
    },
    eof() {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "eof" }));
    },
    close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
    },
    onData: (l) => void dataListeners.push(l),
    onEof: (l) => void eofListeners.push(l),
    ended,
    opened,
  };
}
