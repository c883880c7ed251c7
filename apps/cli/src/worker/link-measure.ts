import { randomBytes } from "node:crypto";

/** Round trip, download and upload speed from this machine to a control plane. */
export interface LinkMeasure {
  /** Median round trip of the small requests, in milliseconds. */
  rttMs: number;
  /** Every round trip measured, in milliseconds, in order. */
  rttSamplesMs: number[];
  /** Download speed in megabits per second, or null when nothing could be downloaded. */
  mbps: number | null;
  /** Bytes downloaded for the speed figure. */
  bytes: number;
  /** Seconds the download took. */
  seconds: number;
  /** Upload speed in megabits per second, or null when the server took no upload (an older server). */
  uploadMbps: number | null;
  /** Bytes the server said it received for the upload figure. */
  uploadBytes: number;
  /** Seconds the upload took. */
  uploadSeconds: number;
}

/** How much a measurement may cost the server and the link. */
export interface LinkMeasureOptions {
  /** Small requests timed for the round trip (default 5). */
  pings?: number;
  /** The download stops once it has this many bytes (default 4 MiB). */
  maxBytes?: number;
  /** ...or after this long (default 3000 ms); the upload has the same time bound. */
  maxMs?: number;
  /** The upload stops once it has sent this many bytes (default 2 MiB, in requests of at most 1 MiB). */
  maxUploadBytes?: number;
  /** Each request gives up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Stops the measurement (the worker stopping); it then throws. */
  signal?: AbortSignal;
}

const SMALL = "healthz";
/** At most this many downloads per measurement, whatever the byte and time bounds allow. */
const MAX_DOWNLOADS = 32;
/**
 * The largest document every server already serves to anyone; downloaded whole, again and again, for the speed
 * figure. No route of its own exists for this, so a measurement cannot be turned into a traffic amplifier: each
 * download is one ordinary request under the server's read rate limit.
 */
const LARGE = "openapi.json";
/** The server's upload sink (`POST /v1/link-test`): it counts what it receives and keeps nothing. */
const SINK = "v1/link-test";
/** The most one upload request may carry (the sink's limit). */
const UPLOAD_CHUNK = 1024 * 1024;

/**
 * Measures the link to `server`: the median round trip of a few `GET /healthz` (which the server answers without
 * a database or a rate limit), the download speed of `GET /openapi.json` fetched repeatedly, then the upload speed
 * of random bytes posted to `POST /v1/link-test`, each bounded in bytes and time. Throws when the server cannot be
 * reached at all.
 */
export async function measureLink(server: string, options: LinkMeasureOptions = {}): Promise<LinkMeasure> {
  const base = server.endsWith("/") ? server : `${server}/`;
  const pings = Math.max(1, options.pings ?? 5);
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  const maxMs = options.maxMs ?? 3000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const signal = () =>
    options.signal
      ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)])
      : AbortSignal.timeout(timeoutMs);
  const samples: number[] = [];
  for (let i = 0; i < pings; i++) {
    const start = performance.now();
    const res = await fetch(new URL(SMALL, base), { signal: signal() });
    await res.arrayBuffer();
    samples.push(performance.now() - start);
  }
  let bytes = 0;
  let elapsed = 0;
  const started = performance.now();
  for (let requests = 0; bytes < maxBytes && elapsed < maxMs && requests < MAX_DOWNLOADS; requests++) {
    const res = await fetch(new URL(LARGE, base), { signal: signal() });
    if (!res.ok || !res.body) break;
    const got = await bodyBytes(res.body, maxBytes - bytes);
    elapsed = performance.now() - started;
    if (got === 0) break;
    bytes += got;
  }
  const seconds = elapsed / 1000;
  const upload = await measureUpload(base, options.maxUploadBytes ?? 2 * UPLOAD_CHUNK, maxMs, signal);
  return {
    rttMs: round(median(samples)),
    rttSamplesMs: samples.map(round),
    mbps: bytes > 0 && seconds > 0 ? round((bytes * 8) / 1e6 / seconds) : null,
    bytes,
    seconds: round(seconds),
    uploadMbps:
      upload.bytes > 0 && upload.seconds > 0 ? round((upload.bytes * 8) / 1e6 / upload.seconds) : null,
    uploadBytes: upload.bytes,
    uploadSeconds: round(upload.seconds),
  };
}

/**
 * Posts random bytes to the server's sink until `maxBytes` are sent or `maxMs` passed; counts only what the server
 * says it received. A server without the sink (an older release) answers 404: no upload figure, not an error.
 */
async function measureUpload(
  base: string,
  maxBytes: number,
  maxMs: number,
  signal: () => AbortSignal,
): Promise<{ bytes: number; seconds: number }> {
  let bytes = 0;
  let elapsed = 0;
  const started = performance.now();
  while (bytes < maxBytes && elapsed < maxMs) {
    const body = randomBytes(Math.min(UPLOAD_CHUNK, maxBytes - bytes));
    const res = await fetch(new URL(SINK, base), {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body,
      signal: signal(),
    });
    elapsed = performance.now() - started;
    if (!res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      break;
    }
    const got = ((await res.json()) as { bytes?: unknown }).bytes;
    if (typeof got !== "number" || got <= 0) break;
    bytes += got;
  }
  return { bytes, seconds: elapsed / 1000 };
}

/** Reads a body up to `limit` bytes, cancelling the rest. */
async function bodyBytes(body: ReadableStream<Uint8Array>, limit: number): Promise<number> {
  let n = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.byteLength;
      if (n >= limit) break;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return n;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
