import { z } from "zod";
import { ClusterId, JobId } from "./market.js";

/**
 * Getting into a rented job: a command or shell in a rank's job container (`exec`), or a TCP connection to a port
 * inside the job's network namespace (`forward`), carried through the control plane over the device's worker
 * session. The customer's side is a WebSocket on the server (binary frames carry bytes, text frames carry
 * `AccessControlMessage`s); the worker's side is the `stream.*` frames below, keyed by a random stream id.
 */

/** Largest chunk of bytes one `stream.data` frame carries (before base64). */
export const STREAM_CHUNK_BYTES = 32 * 1024;
/** Bytes a side may send on a stream before the other acknowledges them (`stream.ack`): the flow-control window. */
export const STREAM_WINDOW_BYTES = 256 * 1024;
/** Most arguments, and most bytes of all arguments together, of an exec command. */
export const ACCESS_MAX_ARGS = 64;
/** Most bytes of all exec arguments together. */
export const ACCESS_MAX_ARGV_BYTES = 8 * 1024;
/** The feature a worker announces when it understands `stream.*` frames. */
export const STREAMS_FEATURE = "streams";

const UTF8 = new TextEncoder();

/** A stream's id: 22 random base64url characters, chosen by the server. */
export const StreamId = z.string().regex(/^[A-Za-z0-9_-]{22}$/);

/** A TCP port inside the job that may be forwarded: any port from 1 to 65535. */
export const AccessPort = z.coerce
  .number()
  .int()
  .min(1, { message: "ports run from 1 to 65535" })
  .max(65_535, { message: "ports run from 1 to 65535" });

/** What a stream opens: a command in the container, or a connection to a port inside the job's network. */
export const StreamKind = z.enum(["exec", "forward"]);
/** A parsed `StreamKind`. */
export type StreamKind = z.infer<typeof StreamKind>;

/** An exec command line: at least one argument, bounded in count and size, no NUL bytes. */
export const ExecArgv = z
  .array(
    z
      .string()
      .max(ACCESS_MAX_ARGV_BYTES)
      .regex(/^[^\0]*$/),
  )
  .min(1)
  .max(ACCESS_MAX_ARGS)
  .refine((argv) => argv.reduce((n, a) => n + UTF8.encode(a).length, 0) <= ACCESS_MAX_ARGV_BYTES, {
    message: `the command may be at most ${ACCESS_MAX_ARGV_BYTES} bytes`,
  });

/**
 * Server → worker: open a stream into the job `jobId` of cluster `clusterId`. The worker opens it only for a job it
 * started for that cluster and is still running; anything else is answered with `stream.close` and a code.
 */
export const StreamOpenMessage = z.object({
  type: z.literal("stream.open"),
  streamId: StreamId,
  clusterId: ClusterId,
  jobId: JobId,
  kind: StreamKind,
  /** exec: the command to run (a shell when the customer named none). */
  argv: ExecArgv.optional(),
  /** exec: give the command a terminal. */
  tty: z.boolean().optional(),
  cols: z.number().int().min(1).max(1000).optional(),
  rows: z.number().int().min(1).max(1000).optional(),
  /** forward: the port to connect to on 127.0.0.1 inside the job's network namespace. */
  port: z.number().int().min(1).max(65_535).optional(),
});
/** A parsed `StreamOpenMessage`. */
export type StreamOpenMessage = z.infer<typeof StreamOpenMessage>;

/** Worker → server: the stream is open (the command started, or the connection was made); bytes may flow. */
export const StreamOpenedMessage = z.strictObject({
  type: z.literal("stream.opened"),
  streamId: StreamId,
});
/** A parsed `StreamOpenedMessage`. */
export type StreamOpenedMessage = z.infer<typeof StreamOpenedMessage>;

/** Both ways: bytes of a stream, base64. From the worker, `fd` 2 marks a command's stderr. */
export const StreamDataMessage = z.strictObject({
  type: z.literal("stream.data"),
  streamId: StreamId,
  data: z.base64().max(Math.ceil(STREAM_CHUNK_BYTES / 3) * 4),
  fd: z.union([z.literal(1), z.literal(2)]).optional(),
});
/** A parsed `StreamDataMessage`. */
export type StreamDataMessage = z.infer<typeof StreamDataMessage>;

/** Both ways: `bytes` more of the other side's data were delivered; it may send that much more. */
export const StreamAckMessage = z.strictObject({
  type: z.literal("stream.ack"),
  streamId: StreamId,
  bytes: z.number().int().min(1).max(STREAM_WINDOW_BYTES),
});
/** A parsed `StreamAckMessage`. */
export type StreamAckMessage = z.infer<typeof StreamAckMessage>;

/** Both ways: the sender has no more data (the customer's stdin ended; the command closed its output). */
export const StreamEofMessage = z.strictObject({
  type: z.literal("stream.eof"),
  streamId: StreamId,
});
/** A parsed `StreamEofMessage`. */
export type StreamEofMessage = z.infer<typeof StreamEofMessage>;

/**
 * Both ways: the stream is over. From the worker: the command's exit code, or `code` when it could not open
 * (`job_not_running`, `stream_refused`, ...). From the server: the customer left; the worker ends the process.
 */
export const StreamCloseMessage = z.strictObject({
  type: z.literal("stream.close"),
  streamId: StreamId,
  exitCode: z.number().int().nullable().optional(),
  code: z
    .string()
    .regex(/^[a-z_]{1,40}$/)
    .optional(),
  message: z.string().max(300).optional(),
});
/** A parsed `StreamCloseMessage`. */
export type StreamCloseMessage = z.infer<typeof StreamCloseMessage>;

/** Every stream frame the server sends to a worker. */
export const StreamServerMessage = z.discriminatedUnion("type", [
  StreamOpenMessage,
  StreamDataMessage,
  StreamAckMessage,
  StreamEofMessage,
  StreamCloseMessage,
]);
/** A stream frame to a worker. */
export type StreamServerMessage = z.infer<typeof StreamServerMessage>;

/** Every stream frame a worker sends to the server. */
export type StreamWorkerMessage =
  | StreamOpenedMessage
  | StreamDataMessage
  | StreamAckMessage
  | StreamEofMessage
  | StreamCloseMessage;

/**
 * Text frames on the customer's access WebSocket. From the server: `exit` (the command's code, then the socket
 * closes) and `error` (a refusal or failure with a stable code). From the customer: `eof` (stdin ended).
 * Binary frames carry bytes: from the customer, stdin; from the server, one channel byte (1 stdout, 2 stderr)
 * followed by the bytes.
 */
export const AccessControlMessage = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("exit"), exitCode: z.number().int().nullable() }),
  z.strictObject({ type: z.literal("error"), code: z.string().max(40), message: z.string().max(300) }),
  z.strictObject({ type: z.literal("eof") }),
]);
/** A parsed `AccessControlMessage`. */
export type AccessControlMessage = z.infer<typeof AccessControlMessage>;

/** Query of `GET /v1/clusters/{clusterId}/ranks/{rank}/exec` (a WebSocket). */
export const ExecQuery = z.strictObject({
  /** The command, one `argv` parameter per argument; none opens the container's shell (`/bin/sh`). */
  argv: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]))
    .pipe(ExecArgv.optional()),
  tty: z.enum(["0", "1", "true", "false"]).optional(),
  cols: z.coerce.number().int().min(1).max(1000).optional(),
  rows: z.coerce.number().int().min(1).max(1000).optional(),
});

/** Query of `GET /v1/clusters/{clusterId}/ranks/{rank}/forward` (a WebSocket). */
export const ForwardQuery = z.strictObject({ port: z.string().max(12) });

/** Path parameters of the access routes: any string as the cluster id (a bad one is simply not found). */
export const AccessParams = z.object({
  clusterId: z.string().max(200),
  rank: z.string().max(12),
});
