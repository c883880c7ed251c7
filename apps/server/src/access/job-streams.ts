import { randomBytes } from "node:crypto";
import {
  type AccessControlMessage,
  IgnisError,
  STREAM_CHUNK_BYTES,
  STREAM_WINDOW_BYTES,
  type StreamServerMessage,
  type StreamWorkerMessage,
} from "@ignis/protocol";
import type { RawData, WebSocket } from "ws";
import type { Bus, BusSubscription } from "../bus/bus.js";
import type { Gateway, GatewaySession } from "../gateway/gateway.js";
import type { GatewayLog } from "../gateway/session-hub.js";
import type { RunningRank } from "../market/rank-job.js";
import type { AuditEntry } from "../security/audit-log.js";

/** What a customer opens: a command (a shell when none) or a connection to a port inside the job. */
export type StreamRequest =
  | { kind: "exec"; argv: string[]; tty: boolean; cols?: number | undefined; rows?: number | undefined }
  | { kind: "forward"; port: number };

/** Who opened a stream, as its audit records name them. */
export type StreamActor = Pick<AuditEntry, "actorType" | "actorId" | "credentialId" | "ip" | "requestId">;

/** Relays customers' access sockets to job containers over the devices' worker sessions, on any replica. */
export interface JobStreams {
  /**
   * Opens a stream into the rank's job for an already authorized customer, over the socket they opened. Refusals
   * that can only be known now (too many streams, the device is gone or its worker too old, the worker refused)
   * reach the customer as an `error` frame and close the socket; every stream is audited when it opens and ends.
   */
  open(socket: WebSocket, target: RunningRank, request: StreamRequest, actor: StreamActor): void;
  /** Refuses early when the cluster already has its most streams open here. */
  assertCapacity(clusterId: string): void;
  /** Streams open on this replica. */
  count(): number;
  /** Ends every stream (the server is stopping). */
  close(): void;
}

/** Settings and collaborators of the relay. */
export interface JobStreamsOptions {
  gateway: Gateway;
  bus: Bus;
  log: GatewayLog;
  audit: (entry: AuditEntry) => void;
  maxStreamsPerCluster: number;
  idleSeconds: number;
  /** How long a worker has to answer `stream.open` before it is taken for an outdated one (default 10 s). */
  openTimeoutMs?: number;
  now?: () => number;
}

/** How a stream ended: the command's exit code, a refusal or failure with a code, or the customer leaving. */
interface StreamEnd {
  exitCode?: number | null;
  error?: { code: string; message: string };
  reason?: "customer_left";
}

interface Stream {
  id: string;
  target: RunningRank;
  request: StreamRequest;
  actor: StreamActor;
  socket: WebSocket;
  subscription: BusSubscription | undefined;
  openedAt: number;
  lastActivity: number;
  opened: boolean;
  /** Bytes sent to the worker that it has not acknowledged yet. */
  inFlight: number;
  paused: boolean;
  bytesIn: number;
  bytesOut: number;
  /** Sends to the worker in order, even when its session is on another replica. */
  queue: Promise<unknown>;
  timers: NodeJS.Timeout[];
  ended: boolean;
}

const streamSubject = (streamId: string) => `ignis.stream.${streamId}`;

/** Creates the relay of one replica and registers its worker-frame handlers with the gateway. */
export function createJobStreams(options: JobStreamsOptions): JobStreams {
  const { gateway, bus, log } = options;
  const now = options.now ?? Date.now;
  const streams = new Map<string, Stream>();
  const perCluster = new Map<string, number>();
  const openTimeoutMs = options.openTimeoutMs ?? 10_000;

  const toWorker = (s: Stream, message: StreamServerMessage): Promise<boolean> => {
    const sent = s.queue.then(() => gateway.send(s.target.deviceId, message));
    s.queue = sent.catch(() => false);
    return sent.catch(() => false);
  };

  const control = (s: Stream, message: AccessControlMessage) => {
    if (s.socket.readyState === 1) s.socket.send(JSON.stringify(message));
  };

  /** Ends a stream once: tells the customer and the worker, closes the socket, writes the closing audit record. */
  const finish = (s: Stream, end: StreamEnd, tellWorker: boolean) => {
    if (s.ended) return;
    s.ended = true;
    for (const t of s.timers) clearTimeout(t);
    s.subscription?.unsubscribe();
    streams.delete(s.id);
    const left = (perCluster.get(s.target.clusterId) ?? 1) - 1;
    if (left > 0) perCluster.set(s.target.clusterId, left);
    else perCluster.delete(s.target.clusterId);
    if (tellWorker) void toWorker(s, { type: "stream.close", streamId: s.id });
    if (end.error) control(s, { type: "error", code: end.error.code, message: end.error.message });
    else if (!end.reason) control(s, { type: "exit", exitCode: end.exitCode ?? null });
    if (s.socket.readyState === 1) s.socket.close(1000, end.error ? end.error.code : "exit");
    options.audit({
      ...s.actor,
      action: "cluster.access.close",
      objectType: "cluster",
      objectId: s.target.clusterId,
      outcome: end.error ? `failed:${end.error.code}` : "ok",
      details: {
        streamId: s.id,
        rank: s.target.rank,
        deviceId: s.target.deviceId,
        kind: s.request.kind,
        ...(s.request.kind === "forward" ? { port: s.request.port } : {}),
        durationMs: now() - s.openedAt,
        bytesIn: s.bytesIn,
        bytesOut: s.bytesOut,
        ...(end.exitCode !== undefined ? { exitCode: end.exitCode } : {}),
        ...(end.reason ? { reason: end.reason } : {}),
      },
    });
  };

  const touch = (s: Stream) => {
    s.lastActivity = now();
  };

  const pause = (s: Stream) => {
    if (s.paused) return;
    s.paused = true;
    s.socket.pause();
  };
  const resume = (s: Stream) => {
    if (!s.paused || !s.opened || s.inFlight >= STREAM_WINDOW_BYTES) return;
    s.paused = false;
    s.socket.resume();
  };

  /** A frame of the stream's worker: only the device the stream was opened on may speak on it. */
  const fromWorker = (s: Stream, deviceId: string, message: StreamWorkerMessage) => {
    if (s.ended || deviceId !== s.target.deviceId) return;
    touch(s);
    switch (message.type) {
      case "stream.opened":
        s.opened = true;
        resume(s);
        break;
      case "stream.data": {
        const bytes = Buffer.from(message.data, "base64");
        s.bytesOut += bytes.length;
        const frame = Buffer.concat([Buffer.of(message.fd ?? 1), bytes]);
        // Acknowledged once the customer's socket took the bytes: a slow customer slows the job's output down.
        s.socket.send(frame, (error) => {
          if (!error && !s.ended && bytes.length > 0)
            void toWorker(s, { type: "stream.ack", streamId: s.id, bytes: bytes.length });
        });
        break;
      }
      case "stream.ack":
        s.inFlight = Math.max(0, s.inFlight - message.bytes);
        resume(s);
        break;
      case "stream.eof":
        control(s, { type: "eof" });
        break;
      case "stream.close":
        finish(
          s,
          message.code
            ? { error: { code: message.code, message: message.message ?? "the worker refused the stream" } }
            : { exitCode: message.exitCode ?? null },
          false,
        );
        break;
    }
  };

  const onWorkerFrame = (session: GatewaySession, message: StreamWorkerMessage) => {
    const local = streams.get(message.streamId);
    if (local) return fromWorker(local, session.deviceId, message);
    // The customer's socket may be on another replica: the device id travels with the frame, and is checked there.
    void bus
      .publish(streamSubject(message.streamId), { deviceId: session.deviceId, message })
      .catch(() => undefined);
  };
  for (const type of ["stream.opened", "stream.data", "stream.ack", "stream.eof", "stream.close"] as const) {
    gateway.onMessage(type, onWorkerFrame as never);
  }
  gateway.onSessionClosed((deviceId) => {
    for (const s of streams.values()) {
      if (s.target.deviceId === deviceId)
        finish(s, { error: new IgnisError("device_offline", "the device's session ended") }, false);
    }
  });

  const fromCustomer = (s: Stream, data: RawData, isBinary: boolean) => {
    if (s.ended) return;
    touch(s);
    if (!isBinary) {
      let parsed: { type?: unknown } | undefined;
      try {
        parsed = JSON.parse(String(data)) as { type?: unknown };
      } catch {
        parsed = undefined;
      }
      if (parsed?.type === "eof") void toWorker(s, { type: "stream.eof", streamId: s.id });
      else
        finish(s, { error: new IgnisError("bad_request", "text frames carry control messages only") }, true);
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    s.bytesIn += bytes.length;
    for (let at = 0; at < bytes.length; at += STREAM_CHUNK_BYTES) {
      const chunk = bytes.subarray(at, at + STREAM_CHUNK_BYTES);
      s.inFlight += chunk.length;
      void toWorker(s, { type: "stream.data", streamId: s.id, data: chunk.toString("base64") });
    }
    if (s.inFlight >= STREAM_WINDOW_BYTES) pause(s);
  };

  return {
    assertCapacity(clusterId) {
      if ((perCluster.get(clusterId) ?? 0) >= options.maxStreamsPerCluster) {
        throw new IgnisError(
          "too_many_streams",
          `a cluster may have at most ${options.maxStreamsPerCluster} sessions open at once`,
          { details: { max: options.maxStreamsPerCluster } },
        );
      }
    },
    open(socket, target, request, actor) {
      const s: Stream = {
        id: randomBytes(16).toString("base64url"),
        target,
        request,
        actor,
        socket,
        subscription: undefined,
        openedAt: now(),
        lastActivity: now(),
        opened: false,
        inFlight: 0,
        paused: false,
        bytesIn: 0,
        bytesOut: 0,
        queue: Promise.resolve(),
        timers: [],
        ended: false,
      };
      streams.set(s.id, s);
      perCluster.set(target.clusterId, (perCluster.get(target.clusterId) ?? 0) + 1);
      // Nothing the customer sends goes anywhere until the worker has opened the stream.
      pause(s);
      s.subscription = bus.subscribe(streamSubject(s.id), (raw) => {
        const p = raw as { deviceId: string; message: StreamWorkerMessage };
        fromWorker(s, p.deviceId, p.message);
      });
      socket.on("message", (data, isBinary) => fromCustomer(s, data, isBinary));
      socket.on("close", () => finish(s, { reason: "customer_left" }, true));
      socket.on("error", () => socket.terminate());
      options.audit({
        ...actor,
        action: "cluster.access.open",
        objectType: "cluster",
        objectId: target.clusterId,
        outcome: "ok",
        details: {
          streamId: s.id,
          rank: target.rank,
          deviceId: target.deviceId,
          jobId: target.jobId,
          kind: request.kind,
          ...(request.kind === "forward"
            ? { port: request.port }
            : { argv0: request.argv[0], tty: request.tty }),
        },
      });
      const openTimer = setTimeout(() => {
        if (!s.opened)
          finish(
            s,
            {
              error: new IgnisError(
                "worker_outdated",
                "the device's worker did not answer; it may be too old for sessions",
              ),
            },
            true,
          );
      }, openTimeoutMs);
      const idleMs = options.idleSeconds * 1000;
      const idleCheck = () => {
        if (s.ended) return;
        const quiet = now() - s.lastActivity;
        if (quiet >= idleMs)
          return finish(
            s,
            { error: { code: "idle_timeout", message: `the session was idle for ${options.idleSeconds} s` } },
            true,
          );
        const t = setTimeout(idleCheck, idleMs - quiet);
        t.unref();
        s.timers.push(t);
      };
      const idleTimer = setTimeout(idleCheck, idleMs);
      for (const t of [openTimer, idleTimer]) t.unref();
      s.timers.push(openTimer, idleTimer);
      const base = { streamId: s.id, clusterId: target.clusterId, jobId: target.jobId };
      const message: StreamServerMessage =
        request.kind === "exec"
          ? {
              type: "stream.open",
              ...base,
              kind: "exec",
              argv: request.argv,
              tty: request.tty,
              ...(request.cols ? { cols: request.cols } : {}),
              ...(request.rows ? { rows: request.rows } : {}),
            }
          : { type: "stream.open", ...base, kind: "forward", port: request.port };
      void toWorker(s, message).then((sent) => {
        if (sent || s.ended) return;
        finish(
          s,
          {
            error: gateway.isConnected(target.deviceId)
              ? new IgnisError(
                  "worker_outdated",
                  "the device's worker is too old for sessions; its owner must update it",
                )
              : new IgnisError("device_offline", "the device running this rank is not connected"),
          },
          false,
        );
      });
      log.debug(
        { streamId: s.id, clusterId: target.clusterId, rank: target.rank, kind: request.kind },
        "access stream opened",
      );
    },
    count: () => streams.size,
    close() {
      for (const s of [...streams.values()])
        finish(s, { error: new IgnisError("unavailable", "the server is restarting") }, true);
    },
  };
}
