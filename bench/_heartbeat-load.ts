/**
 * The load side of the worker-session benches: enrolls devices over HTTP and drives lean sessions (a key in
 * memory and a WebSocket; no state folder or load sampler), so the figures measure the server.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  decodeServerFrame,
  encodeFrame,
  enrollmentSigningText,
  type HeartbeatLoad,
  heartbeatAsksAck,
  sessionSigningText,
  WORKER_SESSION_PATH,
} from "@ignis/protocol";
import pg from "pg";
import WebSocket from "ws";
import { simulatedClaim } from "../apps/cli/src/hardware/detect.js";
import { createCpuProver } from "../apps/cli/src/prover/cpu-prover.js";
import type { Prover } from "../apps/cli/src/prover/prover.js";
import { type DeviceKey, generateDeviceKey, signText } from "../apps/cli/src/worker/device-key.js";
import { freePort } from "../apps/server/src/testing/test-server.js";
import type { HarnessRequest } from "./_heartbeat-server.js";
import { newLatencyHistogram } from "./_latency.js";

/** PostgreSQL the benches use when it is reachable (as in production); PGlite otherwise. */
const BENCH_POSTGRES_URL =
  process.env.IGNIS_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A fresh scratch PostgreSQL database and how to drop it, or undefined when PostgreSQL is not reachable. */
export async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: BENCH_POSTGRES_URL, connectionTimeoutMillis: 10_000 });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const name = `ignis_bench_${randomBytes(5).toString("hex")}`;
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(BENCH_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A running server child. */
export interface HarnessServer {
  url: string;
  adminKey: string;
  child: ChildProcess;
  /** Asks the server process over IPC: its counters, its memory, or a `deliver` run. */
  ask<T>(request: "stats" | "memory" | HarnessRequest): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts bench/_heartbeat-server.ts (or another server speaking its IPC, such as bench/_floor-server.ts) in its
 * own process.
 */
export async function startHarnessServer(
  env: Record<string, string>,
  execArgv: string[] = [],
  script = "./_heartbeat-server.ts",
): Promise<HarnessServer> {
  const port = await freePort();
  const child = fork(new URL(script, import.meta.url).pathname, [], {
    execArgv: ["--import", "tsx", ...execArgv],
    env: {
      ...process.env,
      IGNIS_PORT: String(port),
      IGNIS_HOST: "127.0.0.1",
      IGNIS_PUBLIC_URL: `http://127.0.0.1:${port}`,
      IGNIS_DATA_DIR: mkdtempSync(join(tmpdir(), "ignis-bench-")),
      IGNIS_LOG_LEVEL: "warn",
      IGNIS_RATE_LIMITS: "off",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await new Promise<{ url: string; adminKey: string }>((resolve, reject) => {
    child.once("message", (m) => resolve(m as { url: string; adminKey: string }));
    child.once("exit", (code) => reject(new Error(`server exited during start (${code})`)));
  });
  return {
    ...ready,
    child,
    ask: <T>(request: "stats" | "memory" | HarnessRequest) =>
      new Promise<T>((resolve) => {
        child.once("message", (m) => resolve(m as T));
        child.send(typeof request === "string" ? { kind: request } : request);
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.send({ kind: "stop" });
      }),
  };
}

async function json<T>(url: string, method: string, key: string | undefined, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A supplier with an API key, made with the bootstrap admin key. */
export async function createSupplier(url: string, adminKey: string): Promise<string> {
  const user = await json<{ id: string }>(`${url}/v1/admin/users`, "POST", adminKey, {
    email: `bench${Date.now()}@example.com`,
    roles: ["supplier"],
  });
  const key = await json<{ key: string }>(`${url}/v1/admin/users/${user.id}/api-keys`, "POST", adminKey, {
    name: "bench",
  });
  return key.key;
}

/** An enrolled device whose key lives in memory. */
export interface LeanDevice {
  deviceId: string;
  key: DeviceKey;
}

/** Enrolls `count` simulated devices with `concurrency` requests in flight. */
export async function enrollLeanDevices(url: string, supplierKey: string, count: number, concurrency = 8) {
  const hardware = simulatedClaim("sim-a100", "unknown");
  const devices: LeanDevice[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const { code } = await json<{ code: string }>(`${url}/v1/enrollment-codes`, "POST", supplierKey);
      const key = generateDeviceKey();
      const signature = signText(key, enrollmentSigningText(code, key.publicKey, hardware));
      const { deviceId } = await json<{ deviceId: string }>(`${url}/v1/enrollments`, "POST", undefined, {
        code,
        publicKey: key.publicKey,
        hardware,
        signature,
      });
      devices.push({ deviceId, key });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return devices;
}

/** The load every lean heartbeat carries. */
export const BENCH_LOAD: HeartbeatLoad = {
  cpuPercent: 3,
  memUsedGb: 2,
  gpus: [{ utilPercent: 0, memUsedGb: 0, temperatureC: 41 }],
  busy: false,
};

/**
 * A lean session: authenticates, answers proof challenges with the CPU prover (as an honest simulated device
 * does), sends heartbeats when told to and reports acknowledgements.
 */
export class LeanSession {
  ws!: WebSocket;
  seq = 0;
  private prover: Prover | undefined;
  constructor(
    readonly device: LeanDevice,
    private readonly onAck: (seq: number) => void,
  ) {}

  /** Connects and resolves at `session.hello`. */
  open(url: string): Promise<void> {
    const origin = new URL(url).origin;
    this.ws = new WebSocket(`${url.replace(/^http/, "ws")}${WORKER_SESSION_PATH}`, {
      perMessageDeflate: false,
    });
    return new Promise((resolve, reject) => {
      this.ws.on("error", reject);
      this.ws.on("message", (data) => {
        const m = decodeServerFrame(data.toString());
        if (m.type === "session.challenge") {
          const { deviceId, key } = this.device;
          this.ws.send(
            encodeFrame({
              type: "session.auth",
              deviceId,
              publicKey: key.publicKey,
              signature: signText(key, sessionSigningText(m.nonce, deviceId, origin)),
            }),
          );
        } else if (m.type === "session.hello") resolve();
        else if (m.type === "heartbeat.ack") this.onAck(m.seq);
        else if (m.type === "proof.challenge" || m.type === "proof.reveal-request") void this.prove(m);
        else if (m.type === "session.error" && m.fatal) reject(new Error(m.code));
      });
    });
  }

  private async prove(m: Parameters<Prover["commit"]>[0] | Parameters<Prover["reveal"]>[0]) {
    this.prover ??= createCpuProver();
    const answer = m.type === "proof.challenge" ? await this.prover.commit(m) : await this.prover.reveal(m);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeFrame(answer));
  }

  /** Sends one heartbeat; returns its sequence number. */
  beat(ack: boolean): number {
    const seq = this.seq++;
    this.ws.send(encodeFrame({ type: "heartbeat", seq, ack, load: BENCH_LOAD }));
    return seq;
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Heartbeat send times by session, turned into send → `heartbeat.ack` latencies. An ack for seq N answers every
 * earlier heartbeat of that session that asked for one (acks asked together are answered together).
 */
export class AckClock {
  private pending = new Map<number, Array<[seq: number, at: number]>>();
  histogram = newLatencyHistogram();
  /** Heartbeats that asked for an ack and got none yet. */
  outstanding = 0;

  sent(index: number, seq: number): void {
    let list = this.pending.get(index);
    if (!list) {
      list = [];
      this.pending.set(index, list);
    }
    list.push([seq, performance.now()]);
    this.outstanding++;
  }

  acked(index: number, seq: number): void {
    const list = this.pending.get(index);
    if (!list) return;
    const now = performance.now();
    let answered = 0;
    while (answered < list.length && list[answered]![0] <= seq) {
      this.histogram.recordValue(Math.max(1, Math.round((now - list[answered]![1]) * 1000)));
      answered++;
    }
    list.splice(0, answered);
    this.outstanding -= answered;
  }

  reset(): void {
    this.pending.clear();
    this.outstanding = 0;
    this.histogram = newLatencyHistogram();
  }

  /** A percentile in milliseconds. */
  ms(percentile: number): string {
    return (this.histogram.getValueAtPercentile(percentile) / 1000).toFixed(1);
  }
}

/**
 * Offers `rate` heartbeats a second spread round-robin over `sessions` for `seconds`. Each session asks for an
 * acknowledgement exactly as the worker does (`heartbeatAsksAck`, one in HEARTBEAT_ACK_EVERY), timed by `clock`
 * when given. Returns how many were sent.
 */
export async function offerHeartbeats(
  sessions: LeanSession[],
  rate: number,
  seconds: number,
  options: { clock?: AckClock } = {},
): Promise<number> {
  const start = performance.now();
  let sent = 0;
  let cursor = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
    for (let i = 0; i < Math.min(due, 2000); i++) {
      const index = cursor++ % sessions.length;
      const session = sessions[index]!;
      const ack = heartbeatAsksAck(session.seq);
      const seq = session.beat(ack);
      if (ack) options.clock?.sent(index, seq);
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  return sent;
}

/** Opens a lean session per device on `urlFor(index)`, 50 at a time; acknowledgements go to `clock`. */
export async function openLeanSessions(
  devices: LeanDevice[],
  urlFor: (index: number) => string,
  clock?: AckClock,
): Promise<LeanSession[]> {
  const sessions: LeanSession[] = new Array(devices.length);
  for (let i = 0; i < devices.length; i += 50) {
    await Promise.all(
      devices.slice(i, i + 50).map(async (d, j) => {
        const s = new LeanSession(d, (seq) => clock?.acked(i + j, seq));
        await s.open(urlFor(i + j));
        sessions[i + j] = s;
      }),
    );
  }
  return sessions;
}
