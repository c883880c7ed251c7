import { StringDecoder } from "node:string_decoder";
import { JOB_LOG_CHUNK_BYTES, type JobLogMessage } from "@ignis/protocol";

/** Where a chunk of output came from. */
export type LogSource = "stdout" | "stderr" | "system";

/** Options of a job's log stream: its total cap and its sustained rate. */
export interface LogStreamOptions {
  jobId: string;
  send: (message: JobLogMessage) => void;
  /** Total bytes forwarded for the job; output past it is dropped with one notice. */
  limitBytes: number;
  /** Sustained bytes per second forwarded; bursts up to `burstBytes` pass at once. */
  bytesPerSecond?: number;
  burstBytes?: number;
  /** How often buffered output is sent, in milliseconds. */
  flushMs?: number;
  now?: () => number;
}

/**
 * Forwards a job's output to the server in ordered chunks, capped in total and rate-limited with a token bucket.
 * Output over either bound is dropped, never buffered without limit, and the customer sees how much was dropped.
 */
export class LogStream {
  private seq = 0;
  private sent = 0;
  private droppedByRate = 0;
  private truncated = false;
  private tokens: number;
  private lastRefill: number;
  private readonly pending: { stream: LogSource; data: string }[] = [];
  private readonly decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  private readonly timer: NodeJS.Timeout;
  private readonly rate: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(private readonly options: LogStreamOptions) {
    this.rate = options.bytesPerSecond ?? 64 * 1024;
    this.burst = options.burstBytes ?? 256 * 1024;
    this.now = options.now ?? Date.now;
    this.tokens = this.burst;
    this.lastRefill = this.now();
    this.timer = setInterval(() => this.flush(), options.flushMs ?? 200);
    this.timer.unref();
  }

  /** Takes raw bytes from the job's stdout or stderr. */
  write(stream: "stdout" | "stderr", bytes: Buffer): void {
    this.push(stream, this.decoders[stream].write(bytes));
  }

  /** Adds a line from the worker itself (how the job ran, why it stopped). */
  system(line: string): void {
    this.pending.push({ stream: "system", data: `${line}\n` });
  }

  /** Sends what is buffered, in chunks no larger than the protocol allows. */
  flush(): void {
    if (this.droppedByRate > 0) {
      const dropped = this.droppedByRate;
      this.droppedByRate = 0;
      this.pending.push({
        stream: "system",
        data: `[ignis] ${dropped} bytes of output dropped (rate limit)\n`,
      });
    }
    while (this.pending.length > 0) {
      const next = this.pending.shift()!;
      let data = next.data;
      while (data.length > 0) {
        const piece = sliceUtf8(data, JOB_LOG_CHUNK_BYTES);
        data = data.slice(piece.length);
        this.options.send({
          type: "job.log",
          jobId: this.options.jobId,
          seq: this.seq++,
          stream: next.stream,
          data: piece,
        });
      }
    }
  }

  /** Flushes decoders and buffers, and stops the timer; call once when the job has ended. */
  close(): void {
    this.push("stdout", this.decoders.stdout.end());
    this.push("stderr", this.decoders.stderr.end());
    this.flush();
    clearInterval(this.timer);
  }

  private push(stream: "stdout" | "stderr", text: string): void {
    if (text.length === 0 || this.truncated) return;
    const size = Buffer.byteLength(text);
    this.refill();
    if (this.sent + size > this.options.limitBytes) {
      this.truncated = true;
      const room = Math.max(0, this.options.limitBytes - this.sent);
      if (room > 0) this.pending.push({ stream, data: sliceUtf8(text, room) });
      this.sent = this.options.limitBytes;
      this.pending.push({
        stream: "system",
        data: `[ignis] output limit of ${this.options.limitBytes} bytes reached; further output is dropped\n`,
      });
      return;
    }
    if (size > this.tokens) {
      this.droppedByRate += size;
      return;
    }
    this.tokens -= size;
    this.sent += size;
    this.pending.push({ stream, data: text });
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.lastRefill) / 1000) * this.rate);
    this.lastRefill = t;
  }
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`, never splitting a character. */
export function sliceUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  return text.slice(0, end);
}
