/**
 * The floor for bench/floor.ts: the least any Node server must do for a worker session, on a bare `ws` server
 * in a process of its own. It speaks worker protocol v1 exactly as far as a load generator sees it (challenge,
 * an Ed25519-verified `session.auth` against the key the opener names, hello, cumulative `heartbeat.ack`s at
 * the end of each event-loop turn) and parses and records each heartbeat (JSON.parse, the seq and the time per
 * session). No database, no schema, no uptime, no limits: whatever Ignis costs beyond this is its own.
 * Answers the bench over IPC like bench/_heartbeat-server.ts (`stats`, `memory`, `stop`).
 */
import { createPublicKey, randomBytes, verify } from "node:crypto";
import { createServer } from "node:http";
import { encodeHeartbeatAck, sessionSigningText, WORKER_SESSION_PATH } from "@ignis/protocol";
import { type WebSocket, WebSocketServer } from "ws";
import { watchLoopDelay } from "./_loop-delay.js";

const port = Number(process.env.IGNIS_PORT);
const origin = `http://127.0.0.1:${port}`;

/** What the floor keeps per session: the nonce until it authenticates, then the device and its last beat. */
interface FloorSession {
  nonce: string;
  deviceId: string;
  lastSeq: number;
  lastSeenMs: number;
  ackSeq: number;
}

let heartbeats = 0;
let sessions = 0;
let pendingAcks: Array<[WebSocket, FloorSession]> = [];
let flushScheduled = false;

const flushAcks = () => {
  flushScheduled = false;
  const batch = pendingAcks;
  pendingAcks = [];
  const now = Date.now();
  for (const [ws, s] of batch) {
    ws.send(encodeHeartbeatAck(s.ackSeq, now));
    s.ackSeq = -1;
  }
};

const http = createServer((req, res) => {
  res.writeHead(req.url === "/healthz" ? 200 : 404, { "content-type": "application/json" });
  res.end('{"status":"ok"}');
});
const wss = new WebSocketServer({ server: http, path: WORKER_SESSION_PATH, perMessageDeflate: false });
wss.on("connection", (ws) => {
  const s: FloorSession = {
    nonce: randomBytes(32).toString("base64url"),
    deviceId: "",
    lastSeq: -1,
    lastSeenMs: 0,
    ackSeq: -1,
  };
  ws.send(JSON.stringify({ v: 1, type: "session.challenge", nonce: s.nonce, origin }));
  ws.on("message", (data) => {
    const m = JSON.parse(String(data));
    if (m.type === "heartbeat" && s.deviceId !== "") {
      heartbeats++;
      s.lastSeq = m.seq;
      s.lastSeenMs = Date.now();
      if (m.ack) {
        if (s.ackSeq < 0) pendingAcks.push([ws, s]);
        s.ackSeq = m.seq;
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flushAcks);
        }
      }
    } else if (m.type === "session.auth" && s.deviceId === "") {
      const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: m.publicKey }, format: "jwk" });
      const text = Buffer.from(sessionSigningText(s.nonce, m.deviceId, origin));
      if (!verify(null, text, key, Buffer.from(m.signature, "base64url"))) return ws.close(4401);
      s.deviceId = m.deviceId;
      sessions++;
      ws.send(
        JSON.stringify({
          v: 1,
          type: "session.hello",
          deviceId: m.deviceId,
          sessionId: randomBytes(12).toString("base64url"),
          heartbeatSeconds: 30,
          serverTime: Date.now(),
        }),
      );
    }
  });
  ws.on("close", () => {
    if (s.deviceId !== "") sessions--;
  });
});
http.listen(port, "127.0.0.1", () => process.send?.({ kind: "ready", url: origin, adminKey: "" }));

const loop = watchLoopDelay();
process.on("message", async (raw) => {
  const request = raw as { kind: string };
  if (request.kind === "stats") {
    const cpu = process.cpuUsage();
    const counters = { heartbeats, throttled: 0, sessions, cpuMicros: cpu.user + cpu.system };
    process.send?.({ kind: "stats", ...counters, ...loop.take() });
  }
  if (request.kind === "memory") {
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    process.send?.({ kind: "memory", ...process.memoryUsage(), sessions });
  }
  if (request.kind === "stop") {
    for (const ws of wss.clients) ws.terminate();
    http.close(() => process.exit(0));
  }
});
process.on("SIGTERM", () => process.exit(0));
