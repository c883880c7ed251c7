/**
 * One load process of bench/replicas-scale.ts. A process may hold only as many sockets as its open-file limit
 * allows, so the scale bench spreads its fleet over several of these. Each opens its devices' sessions on the
 * replica each is assigned to (retrying as the server asks, from many loopback addresses, as a fleet does), then
 * keeps every session heartbeating once per heartbeat interval, spread evenly over the interval, asking for
 * acks as the worker does, and answers the parent over IPC.
 */
import { encodeIntoCompressedBase64 } from "hdr-histogram-js";
import { keyFromPem } from "../apps/cli/src/worker/device-key.js";
import { AckClock } from "./_heartbeat-load.js";
import { BenchSession } from "./_session-client.js";

/** A device of this shard: its id, its key as PKCS#8 PEM and the replica it connects to. */
export interface ShardDevice {
  deviceId: string;
  pem: string;
  url: string;
}

/** Requests the parent sends. */
export type ShardRequest =
  | { kind: "open"; devices: ShardDevice[]; inFlight: number; firstAddress: number }
  | { kind: "beat"; heartbeatSeconds: number }
  | { kind: "quiet" }
  | { kind: "report"; resetAcks?: boolean }
  | { kind: "stop" };

/** What the shard reports. */
export interface ShardReport {
  kind: "report";
  sessions: number;
  live: number;
  /** Sessions the server (or the network) closed after they were live. */
  dropped: number;
  /** Heartbeats sent since the beat loop started. */
  sent: number;
  acksAsked: number;
  acksMissing: number;
  /** Send → ack latencies since the last reset, in µs, as an encoded HDR histogram. */
  ackHistogram: string;
}

const clock = new AckClock();
let sessions: BenchSession[] = [];
let dropped = 0;
let sent = 0;
let acksAsked = 0;
let beating: NodeJS.Timeout | undefined;

const send = (message: unknown) => process.send?.(message);

async function open(request: Extract<ShardRequest, { kind: "open" }>) {
  const started = performance.now();
  sessions = request.devices.map((d, i) => {
    const session = new BenchSession(
      { deviceId: d.deviceId, key: keyFromPem(d.pem) },
      (seq) => clock.acked(i, seq),
      // 200 loopback addresses per shard, so no address holds a whole shard's handshakes.
      `127.0.${2 + Math.floor((request.firstAddress + (i % 200)) / 250)}.${(request.firstAddress + (i % 200)) % 250}`,
    );
    session.onDrop = () => {
      dropped++;
    };
    return session;
  });
  let next = 0;
  let failed = 0;
  const lane = async () => {
    while (next < sessions.length) {
      const i = next++;
      try {
        await sessions[i]!.openWithRetry(request.devices[i]!.url, performance.now() + 120_000);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: request.inFlight }, lane));
  send({ kind: "opened", opened: sessions.length - failed, failed, ms: performance.now() - started });
}

/** Beats every session once per interval, in ticks of 50 ms, each tick beating the sessions due in it. */
function beat(heartbeatSeconds: number) {
  const perTick = sessions.length / ((heartbeatSeconds * 1000) / 50);
  let cursor = 0;
  let owed = 0;
  beating = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed--) {
      const i = cursor++ % sessions.length;
      const session = sessions[i]!;
      if (!session.live) continue;
      const { seq, ack } = session.beat();
      sent++;
      if (ack) {
        acksAsked++;
        clock.sent(i, seq);
      }
    }
  }, 50);
}

process.on("message", (raw) => {
  const request = raw as ShardRequest;
  if (request.kind === "open") void open(request);
  if (request.kind === "beat") beat(request.heartbeatSeconds);
  if (request.kind === "quiet" && beating) {
    clearInterval(beating);
    beating = undefined;
  }
  if (request.kind === "report") {
    const report: ShardReport = {
      kind: "report",
      sessions: sessions.length,
      live: sessions.filter((s) => s.live).length,
      dropped,
      sent,
      acksAsked,
      acksMissing: clock.outstanding,
      ackHistogram: encodeIntoCompressedBase64(clock.histogram),
    };
    send(report);
    if (request.resetAcks) clock.histogram.reset();
  }
  if (request.kind === "stop") {
    if (beating) clearInterval(beating);
    for (const s of sessions) s.close();
    process.exit(0);
  }
});
send({ kind: "ready" });
