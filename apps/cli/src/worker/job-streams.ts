import type { Readable } from "node:stream";
import {
  STREAM_CHUNK_BYTES,
  STREAM_WINDOW_BYTES,
  type StreamOpenMessage,
  type StreamServerMessage,
  type StreamWorkerMessage,
} from "@ignis/protocol";
import type { AccessProcess } from "../jobs/job-runtime.js";

/** Streams one worker keeps open at once; more are refused. */
export const MAX_WORKER_STREAMS = 32;
/**
 * Stream frames a worker sends per second, all streams together: under the server's frame budget for a session
 * (250 a second, bursts of 500) with room for heartbeats, logs and proofs. With 32 KiB chunks this carries about
 * 4 MiB/s out of the jobs of one device.
 */
export const STREAM_FRAMES_PER_SECOND = 120;

/** The worker's end of customers' streams into its jobs. */
export interface StreamHost {
  handle(message: StreamServerMessage): void;
  /** Ends every stream (the worker stops). */
  closeAll(): void;
  /** Streams open now. */
  count(): number;
}

interface OpenStream {
  id: string;
  process: AccessProcess | null;
  /** Bytes sent to the server that it has not acknowledged yet. */
  inFlight: number;
  outputs: Readable[];
  paused: boolean;
  closed: boolean;
}

/**
 * Creates the stream host: it opens what the server asks through `open` (the job host, which checks the job),
 * pipes bytes both ways with per-stream flow control, and paces its frames so the session's budget holds.
 */
export function createStreamHost(options: {
  send: (message: StreamWorkerMessage) => boolean;
  open: (order: StreamOpenMessage) => Promise<AccessProcess>;
  log: (line: string) => void;
  now?: () => number;
}): StreamHost {
  const streams = new Map<string, OpenStream>();
  const now = options.now ?? Date.now;
  // One outgoing queue for every stream, drained at the paced rate in order (a stream's close after its data).
  const queue: StreamWorkerMessage[] = [];
  let tokens = STREAM_FRAMES_PER_SECOND / 4;
  let refilledAt = now();
  let drainTimer: NodeJS.Timeout | undefined;

  const drain = () => {
    drainTimer = undefined;
    const t = now();
    tokens = Math.min(
      STREAM_FRAMES_PER_SECOND / 4,
      tokens + ((t - refilledAt) / 1000) * STREAM_FRAMES_PER_SECOND,
    );
    refilledAt = t;
    while (queue.length > 0 && tokens >= 1) {
      const message = queue.shift()!;
      // Control frames are tiny and rare; only data spends the budget.
      if (message.type === "stream.data") tokens -= 1;
      options.send(message);
    }
    if (queue.length > 0) drainTimer = setTimeout(drain, Math.ceil(1000 / STREAM_FRAMES_PER_SECOND));
  };
  const enqueue = (message: StreamWorkerMessage) => {
    queue.push(message);
    if (!drainTimer) drain();
  };

  const close = (s: OpenStream, end: { exitCode?: number | null; code?: string; message?: string }) => {
    if (s.closed) return;
    s.closed = true;
    streams.delete(s.id);
    s.process?.kill();
    enqueue({ type: "stream.close", streamId: s.id, ...end });
  };

  const pauseOutputs = (s: OpenStream) => {
    if (s.paused) return;
    s.paused = true;
    for (const o of s.outputs) o.pause();
  };
  const resumeOutputs = (s: OpenStream) => {
    if (!s.paused || s.inFlight >= STREAM_WINDOW_BYTES) return;
    s.paused = false;
    for (const o of s.outputs) o.resume();
  };

  const pipeOut = (s: OpenStream, from: Readable, fd: 1 | 2) => {
    s.outputs.push(from);
    from.on("data", (chunk: Buffer) => {
      if (s.closed) return;
      for (let at = 0; at < chunk.length; at += STREAM_CHUNK_BYTES) {
        const part = chunk.subarray(at, at + STREAM_CHUNK_BYTES);
        s.inFlight += part.length;
        enqueue({
          type: "stream.data",
          streamId: s.id,
          data: part.toString("base64"),
          ...(fd === 2 ? { fd: 2 as const } : {}),
        });
      }
      if (s.inFlight >= STREAM_WINDOW_BYTES) pauseOutputs(s);
    });
  };

  const open = async (order: StreamOpenMessage) => {
    if (streams.has(order.streamId)) return;
    const s: OpenStream = {
      id: order.streamId,
      process: null,
      inFlight: 0,
      outputs: [],
      paused: false,
      closed: false,
    };
    streams.set(s.id, s);
    if (streams.size > MAX_WORKER_STREAMS) {
      return close(s, { code: "too_many_streams", message: "this device has too many sessions open" });
    }
    let process: AccessProcess;
    try {
      process = await options.open(order);
    } catch (error) {
      const code = (error as { code?: string }).code;
      return close(s, {
        code: code === "job_not_running" ? code : "stream_refused",
        message: (error as Error).message.slice(0, 300),
      });
    }
    if (s.closed) return process.kill();
    s.process = process;
    enqueue({ type: "stream.opened", streamId: s.id });
    let stderrText = "";
    pipeOut(s, process.output, 1);
    if (process.errors) {
      if (order.kind === "forward") {
        // nc's complaints (a refused connection) become the stream's error, not bytes of the connection.
        process.errors.on("data", (b: Buffer) => {
          stderrText = (stderrText + b.toString("utf8")).slice(-300);
        });
      } else pipeOut(s, process.errors, 2);
    }
    let outputsOpen = s.outputs.length;
    const outputEnded = new Promise<void>((resolve) => {
      if (outputsOpen === 0) resolve();
      for (const o of s.outputs) {
        o.once("end", () => {
          if (--outputsOpen === 0) resolve();
        });
        o.once("close", () => {
          if (outputsOpen > 0 && o.readableEnded === false) {
            outputsOpen = 0;
            resolve();
          }
        });
      }
    });
    void outputEnded.then(() => {
      if (!s.closed) enqueue({ type: "stream.eof", streamId: s.id });
    });
    const exitCode = await process.ended;
    await outputEnded;
    if (order.kind === "forward" && exitCode !== 0 && s.inFlight === 0 && stderrText) {
      return close(s, { code: "port_unreachable", message: stderrText.trim().slice(0, 300) });
    }
    close(s, { exitCode });
  };

  return {
    handle(message) {
      if (message.type === "stream.open") {
        void open(message).catch((error: unknown) => options.log(`stream: ${(error as Error).message}`));
        return;
      }
      const s = streams.get(message.streamId);
      if (!s) return;
      switch (message.type) {
        case "stream.data": {
          const bytes = Buffer.from(message.data, "base64");
          if (!s.process || bytes.length === 0) return;
          s.process.input.write(bytes, () => {
            if (!s.closed) enqueue({ type: "stream.ack", streamId: s.id, bytes: bytes.length });
          });
          break;
        }
        case "stream.ack":
          s.inFlight = Math.max(0, s.inFlight - message.bytes);
          resumeOutputs(s);
          break;
        case "stream.eof":
          s.process?.input.end();
          break;
        case "stream.close":
          // The customer left: end the process; no close is owed back.
          s.closed = true;
          streams.delete(s.id);
          s.process?.kill();
          break;
      }
    },
    closeAll() {
      for (const s of [...streams.values()])
        close(s, { code: "stream_refused", message: "the worker is stopping" });
    },
    count: () => streams.size,
  };
}
