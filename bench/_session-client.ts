/**
 * The device side of bench/floor.ts: a worker session in protocol v1 that costs its load process as little as
 * possible (server frames are JSON.parse'd, heartbeats are written from a template), and that reconnects the
 * way a worker does after a restart: it waits as long as the server's `Retry-After` (on a 503 upgrade refusal)
 * or `retryAfterMs` (on a `session.error`) says, and a short jittered pause after any other refusal.
 */
import {
  decodeServerFrame,
  encodeFrame,
  heartbeatAsksAck,
  sessionSigningText,
  WORKER_SESSION_PATH,
} from "@ignis/protocol";
import WebSocket from "ws";
import { createCpuProver } from "../apps/cli/src/prover/cpu-prover.js";
import type { Prover } from "../apps/cli/src/prover/prover.js";
import { signText } from "../apps/cli/src/worker/device-key.js";
import { BENCH_LOAD, type LeanDevice } from "./_heartbeat-load.js";

const LOAD_JSON = JSON.stringify(BENCH_LOAD);

/** Why an open failed, and how long the server asked the device to wait before its next try (0: not said). */
export class OpenRefused extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** One device's session against one server (the floor or Ignis). */
export class BenchSession {
  ws: WebSocket | undefined;
  seq = 0;
  live = false;
  /** When this session last sent a heartbeat (performance.now()). */
  lastBeatMs = 0;
  /**
   * Called when a live session is closed by the server or the network (not by close()), with the wait the
   * server asked for in its last `session.error` (0: none).
   */
  onDrop: ((retryAfterMs: number) => void) | undefined;
  private prover: Prover | undefined;
  constructor(
    readonly device: LeanDevice,
    private readonly onAck: (seq: number) => void = () => undefined,
    /** The loopback address this device dials from (a fleet comes from many addresses, not one). */
    private readonly localAddress?: string,
  ) {}

  /** Connects and resolves at `session.hello`; rejects with OpenRefused when the server refuses or goes away. */
  open(url: string): Promise<void> {
    const origin = new URL(url).origin;
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}${WORKER_SESSION_PATH}`, {
      perMessageDeflate: false,
      ...(this.localAddress ? { localAddress: this.localAddress } : {}),
    });
    this.ws = ws;
    this.live = false;
    this.seq = 0;
    return new Promise((resolve, reject) => {
      let retryAfterMs = 0;
      ws.on("unexpected-response", (_req, res) => {
        const seconds = Number(res.headers["retry-after"]);
        ws.terminate();
        reject(new OpenRefused(`HTTP ${res.statusCode}`, Number.isFinite(seconds) ? seconds * 1000 : 0));
      });
      ws.on("error", (error) => reject(new OpenRefused(error.message, 0)));
      ws.on("close", (code) => {
        const wasLive = this.live && this.ws === ws;
        if (this.ws === ws) this.live = false;
        reject(new OpenRefused(`closed ${code}`, retryAfterMs));
        if (wasLive) this.onDrop?.(retryAfterMs);
      });
      ws.on("message", (data) => {
        const m = JSON.parse(String(data)) as { type: string; [k: string]: unknown };
        if (m.type === "heartbeat.ack") this.onAck(m.seq as number);
        else if (m.type === "session.challenge") {
          const { deviceId, key } = this.device;
          ws.send(
            encodeFrame({
              type: "session.auth",
              deviceId,
              publicKey: key.publicKey,
              signature: signText(key, sessionSigningText(m.nonce as string, deviceId, origin)),
            }),
          );
        } else if (m.type === "session.hello") {
          this.live = true;
          resolve();
        } else if (m.type === "session.error") {
          if (typeof m.retryAfterMs === "number") retryAfterMs = m.retryAfterMs;
        } else if (m.type === "proof.challenge" || m.type === "proof.reveal-request") {
          void this.prove(String(data));
        }
      });
    });
  }

  /**
   * Opens, retrying as the server asks (or after 100–300 ms) until it is live or `deadlineMs` passes; each failed
   * try's reason is counted in `refusals` when given.
   */
  async openWithRetry(url: string, deadlineMs: number, refusals?: Map<string, number>): Promise<number> {
    for (let attempts = 1; ; attempts++) {
      try {
        await this.open(url);
        return attempts;
      } catch (error) {
        if (refusals) {
          const why = error instanceof Error ? error.message.slice(0, 60) : String(error);
          refusals.set(why, (refusals.get(why) ?? 0) + 1);
        }
        if (performance.now() > deadlineMs) throw error;
        const asked = error instanceof OpenRefused ? error.retryAfterMs : 0;
        // The server's hint is the earliest next try; jitter spreads the devices it paced over the next slot.
        const wait = asked > 0 ? asked * (1 + Math.random() * 0.5) : 100 + Math.random() * 200;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private async prove(raw: string) {
    const m = decodeServerFrame(raw);
    if (m.type !== "proof.challenge" && m.type !== "proof.reveal-request") return;
    this.prover ??= createCpuProver();
    const answer = m.type === "proof.challenge" ? await this.prover.commit(m) : await this.prover.reveal(m);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodeFrame(answer));
  }

  /** Sends the next heartbeat, asking for an ack as the worker does; returns its seq and whether it asked. */
  beat(): { seq: number; ack: boolean } {
    const seq = this.seq++;
    const ack = heartbeatAsksAck(seq);
    this.lastBeatMs = performance.now();
    this.ws!.send(`{"v":1,"type":"heartbeat","seq":${seq},"ack":${ack},"load":${LOAD_JSON}}`);
    return { seq, ack };
  }

  close(): void {
    this.live = false;
    this.ws?.terminate();
  }
}
